//! Pictures end to end: each kind of plot drawn to SVG holds the marks, labels and ticks it
//! should; PNGs decode to the right size with the data's colours in them; saving is by
//! extension and atomic; mistakes are errors that name the column.

use super::*;
use crate::df;
use crate::error::Error;
use crate::frame::DataFrame;
use crate::ml::{KMeans, Pca};

/// Elements `<tag ...` whose attributes contain every one of `attrs`.
fn count(svg: &str, tag: &str, attrs: &[&str]) -> usize {
    svg.split(&format!("<{tag} "))
        .skip(1)
        .filter(|el| {
            let head = el.split('>').next().unwrap_or("");
            attrs.iter().all(|a| head.contains(a))
        })
        .count()
}

/// The text of every `<text>` element.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text ")
        .skip(1)
        .filter_map(|el| {
            let start = el.find('>')? + 1;
            let end = el.find("</text>")?;
            Some(el[start..end].trim().to_string())
        })
        .collect()
}

const BLUE: &str = "fill=\"#1F77B4\"";
const ORANGE: &str = "fill=\"#FF7F0E\"";

fn points() -> DataFrame {
    df!(
        "x" => [1.0, 2.0, 3.0, 4.0, f64::NAN, 6.0],
        "y" => [Some(2.0), Some(4.0), None, Some(8.0), Some(10.0), Some(12.0)],
        "cluster" => [0, 0, 0, 1, 1, 1]
    )
    .expect("frame")
}

#[test]
fn scatter_draws_a_point_per_complete_row_with_names_from_columns() {
    let svg = points().plot().scatter("x", "y").to_svg().expect("svg");
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    // Rows 2 (null y) and 4 (NaN x) are left out.
    assert_eq!(count(&svg, "circle", &[BLUE]), 4, "{svg}");
    let t = texts(&svg);
    for want in ["y against x", "x", "y"] {
        assert!(t.iter().any(|s| s == want), "{want} not in {t:?}");
    }
    // Round ticks on both axes.
    assert!(
        t.iter().any(|s| s == "2") && t.iter().any(|s| s == "12"),
        "{t:?}"
    );
    assert!(svg.contains("font-family=\"DejaVu Sans, sans-serif\""));
}

#[test]
fn color_by_gives_a_colour_and_legend_entry_per_value() {
    let svg = points()
        .plot()
        .scatter("x", "y")
        .color_by("cluster")
        .to_svg()
        .expect("svg");
    // Two complete rows in cluster 0 and two in cluster 1, plus one legend dot each.
    assert_eq!(count(&svg, "circle", &[BLUE]), 3, "{svg}");
    assert_eq!(count(&svg, "circle", &[ORANGE]), 3, "{svg}");
    let t = texts(&svg);
    assert!(t.contains(&"cluster = 0".to_string()) && t.contains(&"cluster = 1".to_string()));
    assert!(t.contains(&"y against x by cluster".to_string()), "{t:?}");
}

#[test]
fn line_over_dates_has_calendar_ticks_gaps_and_a_legend() {
    let days: Vec<i32> = (0..120).map(|d| 15340 + d).collect(); // from 2012-01-01
    let close: Vec<Option<f64>> = (0..120)
        .map(|i| if i == 60 { None } else { Some(i as f64) })
        .collect();
    let ma: Vec<f64> = (0..120).map(|i| i as f64 * 0.5).collect();
    let df = DataFrame::new(vec![
        crate::frame::Column::new(
            "date",
            std::sync::Arc::new(arrow::array::Date32Array::from(days)) as arrow::array::ArrayRef,
        ),
        crate::frame::Column::new("close", close),
        crate::frame::Column::new("close_ma20", ma),
    ])
    .expect("frame");
    let svg = df
        .plot()
        .line("date", ["close", "close_ma20"])
        .to_svg()
        .expect("svg");
    let t = texts(&svg);
    for want in [
        "2012-01",
        "2012-02",
        "2012-03",
        "2012-04",
        "close",
        "close_ma20",
        "date",
    ] {
        assert!(t.iter().any(|s| s == want), "{want} not in {t:?}");
    }
    assert!(
        t.contains(&"close, close_ma20 over date".to_string()),
        "{t:?}"
    );
    // The null close splits its line in two; the other is one polyline.
    assert_eq!(
        count(&svg, "polyline", &["stroke=\"#1F77B4\""]),
        2 + 1,
        "{svg}"
    );
    assert_eq!(
        count(&svg, "polyline", &["stroke=\"#FF7F0E\""]),
        1 + 1,
        "{svg}"
    );
}

#[test]
fn histogram_bars_and_count_axis() {
    let df = df!("x" => [0.0, 0.1, 0.2, 0.3, 0.7, 1.0]).expect("frame");
    let svg = df.plot().hist("x", 5).to_svg().expect("svg");
    // One bar per bin (the empty third bin is a bar of no height).
    assert_eq!(count(&svg, "rect", &[BLUE]), 5, "{svg}");
    let t = texts(&svg);
    assert!(t.contains(&"count".to_string()) && t.contains(&"Histogram of x".to_string()));
}

#[test]
fn bars_are_named_by_their_labels() {
    let df = df!("fruit" => ["apple", "<pear>", "plum"], "kg" => [3.0, -1.0, 2.5]).expect("frame");
    let svg = df.plot().bar("fruit", "kg").to_svg().expect("svg");
    assert_eq!(count(&svg, "rect", &[BLUE]), 3, "{svg}");
    let t = texts(&svg);
    for want in [
        "apple",
        "&lt;pear&gt;",
        "plum",
        "kg by fruit",
        "kg",
        "fruit",
    ] {
        assert!(t.iter().any(|s| s == want), "{want} not in {t:?}");
    }
    assert!(!svg.contains("<pear>"));
}

#[test]
fn titles_labels_and_size_can_be_set() {
    let svg = points()
        .plot()
        .scatter("x", "y")
        .title("My <title>")
        .x_label("width (cm)")
        .y_label("height (cm)")
        .size(400, 300)
        .to_svg()
        .expect("svg");
    assert!(svg.contains("width=\"400\"") && svg.contains("height=\"300\""));
    let t = texts(&svg);
    for want in ["My &lt;title&gt;", "width (cm)", "height (cm)"] {
        assert!(t.iter().any(|s| s == want), "{want} not in {t:?}");
    }
    let svg = points()
        .plot()
        .scatter("x", "y")
        .title("")
        .to_svg()
        .expect("svg");
    assert!(!texts(&svg).iter().any(|s| s.contains("against")));
}

/// Width, height and RGB pixels of a PNG, decoded.
fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("PNG data");
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[test]
fn png_decodes_at_its_size_with_the_data_drawn() {
    let bytes = points()
        .plot()
        .scatter("x", "y")
        .color_by("cluster")
        .size(640, 400)
        .to_png()
        .expect("png");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let (w, h, rgb) = decode(&bytes);
    assert_eq!((w, h), (640, 400));
    let pixels: Vec<&[u8]> = rgb.chunks(3).collect();
    let white = pixels.iter().filter(|p| **p == [255, 255, 255]).count();
    assert!(white > pixels.len() / 2, "mostly background");
    // Points are drawn at 75% opacity over white: bluish and orangish pixels appear.
    let blue = pixels.iter().filter(|p| p[2] > 150 && p[0] < 120).count();
    let orange = pixels
        .iter()
        .filter(|p| p[0] > 200 && p[1] > 90 && p[1] < 170 && p[2] < 110)
        .count();
    assert!(blue > 20 && orange > 20, "blue {blue}, orange {orange}");
    // Text is rasterised: dark pixels outside the points.
    let dark = pixels.iter().filter(|p| p.iter().all(|c| *c < 80)).count();
    assert!(dark > 200, "dark {dark}");
}

#[test]
fn save_writes_svg_or_png_by_extension_and_nothing_on_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plot = points().plot().hist("x", 3);
    let svg_path = dir.path().join("fig.svg");
    plot.save(&svg_path).expect("save svg");
    let svg = std::fs::read_to_string(&svg_path).expect("read");
    assert!(svg.starts_with("<svg"));
    let png_path = dir.path().join("fig.PNG");
    plot.save(&png_path).expect("save png");
    let (w, h, _) = decode(&std::fs::read(&png_path).expect("read"));
    assert_eq!((w, h), DEFAULT_SIZE);
    let e = plot.save(dir.path().join("fig.gif")).expect_err("error");
    assert!(e.to_string().contains("use .svg or .png"), "{e}");
    let bad = points().plot().hist("nope", 3);
    let e = bad.save(dir.path().join("bad.svg")).expect_err("error");
    assert!(matches!(e, Error::ColumnNotFound { .. }), "{e}");
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec!["fig.PNG", "fig.svg"]);
}

#[test]
fn mistakes_are_errors_naming_the_column() {
    let df = df!("s" => ["a", "b"], "x" => [1.0, 2.0]).expect("frame");
    let e = df.plot().scatter("x", "y").to_svg().expect_err("error");
    assert!(e.to_string().contains("column not found: \"y\""), "{e}");
    let e = df.plot().line("s", ["x"]).to_svg().expect_err("error");
    assert!(e.to_string().contains("column \"s\" is str"), "{e}");
    let e = df
        .plot()
        .bar("s", "x")
        .color_by("s")
        .to_svg()
        .expect_err("error");
    assert!(
        e.to_string().contains("does not apply to a bar chart"),
        "{e}"
    );
    let e = df.plot().hist("x", 0).to_svg().expect_err("error");
    assert!(e.to_string().contains("at least one bin"), "{e}");
    let e = df
        .plot()
        .scatter("x", "x")
        .size(10, 10)
        .to_svg()
        .expect_err("error");
    assert!(e.to_string().contains("out of range"), "{e}");
}

#[test]
fn a_lazy_plot_reads_only_its_columns() {
    let lf = points().lazy();
    let plot = lf.plot().scatter("x", "y").color_by("x");
    let plan = plot.query().explain(true).expect("plan");
    assert!(!plan.contains("cluster"), "{plan}");
    assert_eq!(plot.query().schema().expect("schema").fields().len(), 2);
}

#[test]
fn kmeans_plot_shows_clusters_on_principal_components_and_centres() {
    let df = df!(
        "a" => [0.0, 0.2, 0.1, 5.0, 5.2, 5.1, 9.0, 9.1],
        "b" => [1.0, 1.1, 0.9, 3.0, 3.2, 3.1, 0.0, 0.2],
        "c" => [0.5, 0.4, 0.6, 2.0, 2.1, 1.9, 7.0, 7.2]
    )
    .expect("frame");
    let model = df
        .clone()
        .lazy()
        .kmeans(KMeans::new(3).seed(7))
        .fit()
        .expect("fit");
    let plot = model.plot(df.clone().lazy()).expect("plot");
    let svg = plot.to_svg().expect("svg");
    let t = texts(&svg);
    assert!(
        t.contains(&"k-means: 3 clusters on the first two principal components".to_string()),
        "{t:?}"
    );
    assert!(t
        .iter()
        .any(|s| s.starts_with("pc1 (") && s.ends_with("% of variance)")));
    assert!(t.contains(&"centres".to_string()));
    // Eight points in three colours plus their legend dots; centres are crosses (two strokes).
    let dots: usize = [BLUE, ORANGE, "fill=\"#2CA02C\""]
        .iter()
        .map(|c| count(&svg, "circle", &[c]))
        .sum();
    assert_eq!(dots, 8 + 3, "{svg}");
    // A model's plot has its colours already.
    let e = plot.clone().color_by("a").to_svg().expect_err("error");
    assert!(e.to_string().contains("model's plot"), "{e}");
    // Its table is the projected points.
    let data = plot.query().collect().expect("data");
    assert_eq!(data.column_names(), vec!["pc1", "pc2", "cluster"]);
    assert_eq!(data.height(), 8);
    // Two features: the features themselves.
    let m2 = df
        .clone()
        .lazy()
        .kmeans(KMeans::new(2).seed(1).features(["a", "b"]))
        .fit()
        .expect("fit");
    let svg = m2.plot(df.lazy()).expect("plot").to_svg().expect("svg");
    let t = texts(&svg);
    assert!(
        t.contains(&"a".to_string()) && t.contains(&"b".to_string()),
        "{t:?}"
    );
}

#[test]
fn pca_plot_shows_explained_variance_bars_and_the_cumulative_line() {
    let df = df!(
        "a" => [1.0, 2.0, 3.0, 4.0, 5.0],
        "b" => [2.0, 1.0, 4.0, 3.0, 6.0],
        "c" => [0.0, 1.0, 0.0, 1.0, 0.5]
    )
    .expect("frame");
    let pca = df.lazy().pca(Pca::all()).fit().expect("fit");
    let svg = pca.plot().to_svg().expect("svg");
    assert_eq!(count(&svg, "rect", &[BLUE]), 3 + 1, "{svg}");
    let t = texts(&svg);
    for want in [
        "pc1",
        "pc2",
        "pc3",
        "cumulative",
        "100%",
        "explained variance ratio",
    ] {
        assert!(t.iter().any(|s| s == want), "{want} not in {t:?}");
    }
}

#[test]
fn evcxr_display_sends_svg_with_a_text_fallback() {
    let plot = points().plot().scatter("x", "y");
    let text = plot.display_payload();
    assert!(
        text.starts_with("EVCXR_BEGIN_CONTENT image/svg+xml\n<svg"),
        "{text}"
    );
    assert!(text.contains("EVCXR_BEGIN_CONTENT text/plain\nPlot: scatter of y against x"));
    let bad = points().plot().scatter("x", "nope");
    let text = bad.display_payload();
    assert!(
        text.starts_with("EVCXR_BEGIN_CONTENT text/html\n<pre"),
        "{text}"
    );
    assert!(
        text.contains("plot error: column not found: \"nope\""),
        "{text}"
    );
}

#[test]
fn histograms_of_real_columns_match_numpy() {
    // numpy.histogram(column, bins) on the bundled files (cars' missing mpg left out).
    let cases = [
        (
            "datasets/iris.csv",
            "sepal_length",
            20,
            vec![
                4, 5, 7, 16, 9, 5, 13, 14, 10, 6, 10, 16, 7, 11, 4, 2, 4, 1, 5, 1,
            ],
        ),
        (
            "datasets/cars.csv",
            "miles_per_gallon",
            25,
            vec![
                3, 10, 20, 36, 22, 33, 25, 30, 18, 28, 20, 29, 18, 21, 14, 20, 14, 11, 8, 7, 2, 3,
                2, 3, 1,
            ],
        ),
    ];
    for (file, column, bins, want) in cases {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let df = crate::plan::scan_csv(&path).collect().expect("read");
        let kind = build::Kind::Hist {
            column: column.into(),
            bins,
        };
        let f = build::figure(&df, &kind, None).expect("figure");
        let figure::Mark::Bars { heights, .. } = &f.layers[0].mark else {
            panic!("bars")
        };
        let got: Vec<u64> = heights.iter().map(|h| *h as u64).collect();
        assert_eq!(got, want, "{file} {column}");
    }
}
