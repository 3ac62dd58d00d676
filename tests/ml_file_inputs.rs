//! Models fitted straight from files: the fit reads the scan's pieces in place (a mapped Arrow
//! IPC file's record batches, a Parquet file's decoded row groups) instead of a frame stacked
//! from them. Each fit must give the bits of the same model fitted on the data as one frame in
//! memory, for 1 and 2 threads, wherever the files cut their batches or row groups. (Fits
//! that stream, such as covariance PCA, merge per morsel instead and are not compared here.)

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float32Array, Float64Array};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use fusedframe::prelude::*;
use ndarray::Array2;

/// `n` rows of `d` features around three centres, in `f32` or `f64`.
fn data(n: usize, d: usize) -> Array2<f64> {
    Array2::from_shape_fn((n, d), |(i, j)| {
        ((i * 7) % 3) as f64 * 3.0 + ((i * 7919 + j * 104_729) % 1009) as f64 / 1009.0 + 100.0
    })
}

fn names(d: usize) -> Vec<String> {
    (0..d).map(|j| format!("f{j}")).collect()
}

/// The rows of `x` cut at `cuts` into record batches of Float32 (or Float64) columns.
fn batches(x: &Array2<f64>, cuts: &[usize], f32s: bool) -> (Arc<Schema>, Vec<RecordBatch>) {
    let dt = if f32s {
        DataType::Float32
    } else {
        DataType::Float64
    };
    let fields: Vec<Field> = names(x.ncols())
        .into_iter()
        .map(|n| Field::new(n, dt.clone(), true))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let mut bounds = vec![0];
    bounds.extend(cuts);
    bounds.push(x.nrows());
    let out = bounds
        .windows(2)
        .map(|w| {
            let cols: Vec<ArrayRef> = (0..x.ncols())
                .map(|j| {
                    let v = (w[0]..w[1]).map(|i| x[[i, j]]);
                    if f32s {
                        Arc::new(Float32Array::from_iter_values(v.map(|v| v as f32))) as ArrayRef
                    } else {
                        Arc::new(Float64Array::from_iter_values(v)) as ArrayRef
                    }
                })
                .collect();
            RecordBatch::try_new(schema.clone(), cols).expect("batch")
        })
        .collect();
    (schema, out)
}

fn write_ipc(path: &Path, schema: &Arc<Schema>, batches: &[RecordBatch]) {
    let file = std::fs::File::create(path).expect("create");
    let mut w = arrow::ipc::writer::FileWriter::try_new(file, schema).expect("writer");
    for b in batches {
        w.write(b).expect("write");
    }
    w.finish().expect("finish");
}

fn write_parquet(path: &Path, schema: &Arc<Schema>, batches: &[RecordBatch]) {
    let file = std::fs::File::create(path).expect("create");
    let mut w = parquet::arrow::ArrowWriter::try_new(file, schema.clone(), None).expect("writer");
    for b in batches {
        // One row group per batch.
        w.write(b).expect("write");
        w.flush().expect("flush");
    }
    w.close().expect("close");
}

/// The frame of all batches, as one.
fn frame(batches: &[RecordBatch]) -> DataFrame {
    let refs: Vec<DataFrame> = batches.iter().map(DataFrame::from_record_batch).collect();
    DataFrame::vstack(refs[0].schema().clone(), &refs).expect("stack")
}

fn on_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool")
        .install(f)
}

fn same_pca(a: &PcaModel, b: &PcaModel, what: &str) {
    assert_eq!(a.solver, b.solver, "{what}");
    let bits = |v: &Array2<f64>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(
        bits(&a.components),
        bits(&b.components),
        "{what}: components"
    );
    assert_eq!(a.explained_variance, b.explained_variance, "{what}");
    assert_eq!(a.mean, b.mean, "{what}: mean");
    assert_eq!(
        a.noise_variance.to_bits(),
        b.noise_variance.to_bits(),
        "{what}"
    );
}

fn same_kmeans(a: &KMeansModel, b: &KMeansModel, what: &str) {
    assert_eq!(a.labels, b.labels, "{what}: labels");
    assert_eq!(a.inertia.to_bits(), b.inertia.to_bits(), "{what}: inertia");
    assert_eq!(a.centroids, b.centroids, "{what}: centroids");
    assert_eq!(a.n_iter, b.n_iter, "{what}");
}

#[test]
fn fits_over_file_batches_are_the_in_memory_bits() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Batches cut inside chunks and blocks, one of them short; 130 features (wide k-means,
    // columns read in place) and 20 (narrow k-means' row-major copy, covariance PCA).
    let n = 2 * 4096 + 300;
    let cuts = [1000, 1001, 4096 + 130, 7000];
    for (d, f32s) in [(130, true), (130, false), (20, false)] {
        let x = data(n, d);
        let (schema, parts) = batches(&x, &cuts, f32s);
        let ipc = dir.path().join(format!("x{d}_{f32s}.arrow"));
        let pq = dir.path().join(format!("x{d}_{f32s}.parquet"));
        write_ipc(&ipc, &schema, &parts);
        write_parquet(&pq, &schema, &parts);
        let df = frame(&parts);
        // (The covariance solver streams morsel by morsel instead: not this path.)
        let pcas = [
            Pca::new(3).svd_solver(PcaSolver::Randomized),
            Pca::new(3).svd_solver(PcaSolver::Full),
        ];
        let kms = [KMeans::new(3).seed(7), KMeans::new(3).seed(1).n_init(2)];
        for threads in [1, 2] {
            let what = |src: &str, m: &str| format!("{src} d={d} f32={f32s} {threads} threads {m}");
            on_threads(threads, || {
                for pca in &pcas {
                    let want = df.clone().lazy().pca(pca.clone()).fit().expect("frame fit");
                    let got = scan_ipc(&ipc).pca(pca.clone()).fit().expect("ipc fit");
                    same_pca(&got, &want, &what("ipc", &format!("{:?}", want.solver)));
                    let got = scan_parquet(&pq)
                        .pca(pca.clone())
                        .fit()
                        .expect("parquet fit");
                    same_pca(&got, &want, &what("parquet", &format!("{:?}", want.solver)));
                }
                for km in &kms {
                    let want = df
                        .clone()
                        .lazy()
                        .kmeans(km.clone())
                        .fit()
                        .expect("frame fit");
                    let got = scan_ipc(&ipc).kmeans(km.clone()).fit().expect("ipc fit");
                    same_kmeans(&got, &want, &what("ipc", "kmeans"));
                    let got = scan_parquet(&pq)
                        .kmeans(km.clone())
                        .fit()
                        .expect("parquet fit");
                    same_kmeans(&got, &want, &what("parquet", "kmeans"));
                    // A filter (keeping every row) makes the heights unknown: narrow k-means
                    // then takes the pieces too, not the rows written as they stream.
                    let got = scan_parquet(&pq)
                        .filter(col("f0").gt(lit(-1.0)))
                        .kmeans(km.clone())
                        .fit()
                        .expect("filtered fit");
                    same_kmeans(&got, &want, &what("filtered", "kmeans"));
                }
            });
        }
        // Mini-batch k-means joins the pieces first: the same bits too. (Least squares
        // streams its morsels, like covariance PCA.)
        let mb = MiniBatchKMeans::new(3).seed(2);
        let want = df
            .clone()
            .lazy()
            .mini_batch_kmeans(mb.clone())
            .fit()
            .expect("frame fit");
        let got = scan_ipc(&ipc).mini_batch_kmeans(mb).fit().expect("ipc fit");
        same_kmeans(&got, &want, "mini-batch");
    }
}

#[test]
fn a_null_in_a_later_batch_is_reported_at_its_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = Arc::new(Schema::new(vec![
        Field::new("a", DataType::Float32, true),
        Field::new("b", DataType::Float32, true),
    ]));
    let batch = |a: Vec<Option<f32>>, b: Vec<Option<f32>>| {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(Float32Array::from(a)),
            Arc::new(Float32Array::from(b)),
        ];
        RecordBatch::try_new(schema.clone(), cols).expect("batch")
    };
    let parts = [
        batch(vec![Some(1.0); 3], vec![Some(2.0); 3]),
        batch(vec![Some(1.0), Some(4.0)], vec![Some(2.0), None]),
        batch(vec![Some(5.0)], vec![None]),
    ];
    let ipc = dir.path().join("nulls.arrow");
    write_ipc(&ipc, &schema, &parts);
    let e = scan_ipc(&ipc)
        .pca(Pca::new(1).svd_solver(PcaSolver::Full))
        .fit()
        .expect_err("nulls");
    assert!(
        e.to_string()
            .contains("\"b\" has 2 null values (first at row 4)"),
        "{e}"
    );
}
