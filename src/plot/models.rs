//! Models' pictures: k-means clusters on the first two principal components of their features
//! (the features themselves when there are two), and PCA's explained variance by component.

use super::build;
use super::chart::Plot;
use super::figure::{palette, Axis, Figure, Layer, Mark, Rgb, Scale, Shape};
use crate::error::{Error, Result};
use crate::expr::col;
use crate::frame::{Column, DataFrame};
use crate::ml::{KMeansModel, Pca, PcaModel};
use crate::plan::LazyFrame;

impl KMeansModel {
    /// The clusters of `data` (typically the frame the model was fitted on): its rows as
    /// points coloured by their predicted cluster, and the centres as black crosses. With more
    /// than two features the points sit on the first two principal components of `data`'s
    /// features (a PCA fitted here; the axes say how much variance each keeps); with two, on
    /// the features themselves; with one, the feature against the cluster.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("a" => [0.0, 0.1, 5.0, 5.1], "b" => [0.0, 0.2, 5.0, 5.2], "c" => [1.0, 1.1, 0.0, 0.1])?;
    /// let model = df.clone().lazy().kmeans(KMeans::new(2).seed(1)).fit()?;
    /// let svg = model.plot(df.lazy())?.to_svg()?;
    /// assert!(svg.contains("principal components"));
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn plot(&self, data: LazyFrame) -> Result<Plot> {
        let f = &self.features;
        let k = self.k();
        let labelled = self.predict(data.clone());
        let centre = |j: usize, i: usize| self.centroids[[j, i]];
        let view = match f.len() {
            0 => {
                return Err(Error::Plan(
                    "this k-means model has no features to plot".into(),
                ))
            }
            1 => View {
                df: labelled
                    .select([col(f[0].as_str()), col("cluster")])
                    .collect()?,
                axes: [f[0].clone(), "cluster".into()],
                labels: [f[0].clone(), "cluster".into()],
                centres: (0..k).map(|j| (centre(j, 0), j as f64)).collect(),
                title: format!("k-means: {k} clusters"),
            },
            2 => View {
                df: labelled
                    .select([col(f[0].as_str()), col(f[1].as_str()), col("cluster")])
                    .collect()?,
                axes: [f[0].clone(), f[1].clone()],
                labels: [f[0].clone(), f[1].clone()],
                centres: (0..k).map(|j| (centre(j, 0), centre(j, 1))).collect(),
                title: format!("k-means: {k} clusters"),
            },
            _ => {
                let pca = data.pca(Pca::new(2).features(f.clone())).fit()?;
                let project = |j: usize, c: usize| -> f64 {
                    (0..f.len())
                        .map(|i| (centre(j, i) - pca.mean[i]) * pca.components[[c, i]])
                        .sum()
                };
                let share = |c: usize| {
                    format!(
                        "pc{} ({:.1}% of variance)",
                        c + 1,
                        100.0 * pca.explained_variance_ratio[c]
                    )
                };
                View {
                    df: pca
                        .transform(labelled)
                        .select([col("pc1"), col("pc2"), col("cluster")])
                        .collect()?,
                    axes: ["pc1".into(), "pc2".into()],
                    labels: [share(0), share(1)],
                    centres: (0..k).map(|j| (project(j, 0), project(j, 1))).collect(),
                    title: format!("k-means: {k} clusters on the first two principal components"),
                }
            }
        };
        let mut figure = build::scatter(
            &view.df,
            &view.axes[0],
            &view.axes[1],
            Some("cluster"),
            false,
        )?;
        figure.title = view.title;
        let [x_label, y_label] = view.labels;
        figure.x.label = x_label;
        figure.y.label = y_label;
        let (xs, ys) = view.centres.into_iter().unzip();
        figure.layers.push(Layer {
            label: Some("centres".into()),
            color: Rgb(0, 0, 0),
            mark: Mark::Points {
                xs,
                ys,
                radius: 7,
                shape: Shape::Cross,
            },
        });
        Ok(Plot::from_figure(figure, view.df))
    }
}

/// What a k-means picture shows: the points' table, its two axis columns and their labels,
/// the centres in the same coordinates, and the title.
struct View {
    df: DataFrame,
    axes: [String; 2],
    labels: [String; 2],
    centres: Vec<(f64, f64)>,
    title: String,
}

impl PcaModel {
    /// The explained variance ratio of each component as bars, with the cumulative ratio as a
    /// line (a scree plot).
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("a" => [1.0, 2.0, 3.0, 4.0], "b" => [2.0, 1.0, 4.0, 3.0])?;
    /// let pca = df.lazy().pca(Pca::all()).fit()?;
    /// assert!(pca.plot().to_svg()?.contains("cumulative"));
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn plot(&self) -> Plot {
        let n = self.n_components();
        let names: Vec<String> = (1..=n).map(|j| format!("pc{j}")).collect();
        let ratio = self.explained_variance_ratio.to_vec();
        let cumulative: Vec<f64> = ratio
            .iter()
            .scan(0.0, |acc, r| {
                *acc += r;
                Some(*acc)
            })
            .collect();
        let positions: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let figure = Figure {
            title: "PCA: explained variance by component".into(),
            x: Axis {
                label: "component".into(),
                scale: Scale::Categories(names.clone()),
                include_zero: false,
            },
            y: Axis {
                label: "explained variance ratio".into(),
                scale: Scale::Percent,
                include_zero: true,
            },
            layers: vec![
                Layer {
                    label: Some("component".into()),
                    color: palette(0),
                    mark: Mark::Bars {
                        lo: positions.iter().map(|p| p - 0.4).collect(),
                        hi: positions.iter().map(|p| p + 0.4).collect(),
                        heights: ratio.clone(),
                        opacity: 1.0,
                    },
                },
                Layer {
                    label: Some("cumulative".into()),
                    color: palette(1),
                    mark: Mark::Line {
                        xs: positions,
                        ys: cumulative.clone(),
                        width: 2,
                        markers: true,
                    },
                },
            ],
        };
        // The table it shows; a plain frame of owned vectors cannot fail to build.
        let data = DataFrame::new(vec![
            Column::new("component", names),
            Column::new("explained_variance_ratio", ratio),
            Column::new("cumulative", cumulative),
        ])
        .unwrap_or_else(|_| {
            DataFrame::empty(std::sync::Arc::new(arrow::datatypes::Schema::empty()))
        });
        Plot::from_figure(figure, data)
    }
}
