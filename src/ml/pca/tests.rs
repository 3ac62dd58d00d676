//! PCA unit tests: the solvers against each other (the deterministic ones exactly, the
//! randomized one on decaying and flat spectra), `auto`'s choices, transforms, float32.

use super::*;

fn data() -> Array2<f64> {
    Array2::from_shape_fn((60, 3), |(i, j)| {
        let t = i as f64 * 0.37;
        match j {
            0 => t.sin() * 3.0 + 10.0,
            1 => t.cos() + 0.5 * t.sin(),
            _ => (i % 7) as f64 * 0.1 - 2.0,
        }
    })
}

/// A uniform value in [0, 1) from a hash of `i` (splitmix64).
fn unit(i: u64) -> f64 {
    let mut z = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// An n x d matrix with singular values decaying geometrically (`100 * 0.7^i`, 40 of them)
/// along random directions, plus an offset per column.
fn decaying(n: usize, d: usize) -> Array2<f64> {
    let r = 40;
    let u = Array2::from_shape_fn((n, r), |(i, k)| unit((i * r + k) as u64) - 0.5);
    let v = Array2::from_shape_fn((r, d), |(k, j)| {
        (unit((1 << 40) + (k * d + j) as u64) - 0.5) * 100.0 * 0.7f64.powi(k as i32)
    });
    let mut x = u.dot(&v);
    for (j, mut c) in x.columns_mut().into_iter().enumerate() {
        c += j as f64 * 0.01;
    }
    x
}

fn assert_rel(a: f64, b: f64, rel: f64, what: &str) {
    assert!((a - b).abs() <= rel * b.abs(), "{what}: {a} vs {b}");
}

#[test]
fn solvers_agree() {
    let x = data();
    let fit = |s| Pca::all().svd_solver(s).fit_ndarray(&x).expect("fit");
    let (a, b) = (fit(PcaSolver::CovarianceEigh), fit(PcaSolver::Full));
    // With as many random vectors as features the randomized solver is exact.
    let c = Pca::new(3)
        .svd_solver(PcaSolver::Randomized)
        .fit_ndarray(&x)
        .expect("randomized");
    for other in [&b, &c] {
        for (p, q) in a.components.iter().zip(other.components.iter()) {
            assert!((p - q).abs() < 1e-9, "{p} vs {q}");
        }
        for (p, q) in a
            .explained_variance
            .iter()
            .zip(other.explained_variance.iter())
        {
            assert!((p - q).abs() < 1e-9 * (1.0 + q), "{p} vs {q}");
        }
        for (p, q) in a
            .explained_variance_ratio
            .iter()
            .zip(other.explained_variance_ratio.iter())
        {
            assert!((p - q).abs() < 1e-10, "{p} vs {q}");
        }
    }
    assert!((a.explained_variance_ratio.sum() - 1.0).abs() < 1e-12);
    assert_eq!(c.solver, PcaSolver::Randomized);
}

#[test]
fn variance_fraction_picks_count() {
    let x = data();
    let all = Pca::all().fit_ndarray(&x).expect("fit");
    let r = &all.explained_variance_ratio;
    let m = Pca::variance(r[0] + 1e-9).fit_ndarray(&x).expect("fit");
    assert_eq!(m.n_components(), 2);
    let m = Pca::variance(r[0] * 0.5).fit_ndarray(&x).expect("fit");
    assert_eq!(m.n_components(), 1);
    // The dropped component's variance is the noise variance.
    assert!(
        (m.noise_variance
            - all
                .explained_variance
                .slice(ndarray::s![1..])
                .mean()
                .unwrap_or(0.0))
        .abs()
            < 1e-12
    );
}

#[test]
fn bad_n_components() {
    let x = data();
    assert!(matches!(Pca::new(4).fit_ndarray(&x), Err(Error::Model(_))));
    assert!(matches!(
        Pca::variance(1.0).fit_ndarray(&x),
        Err(Error::Model(_))
    ));
    let e = Pca::variance(0.5)
        .svd_solver(PcaSolver::Randomized)
        .fit_ndarray(&x)
        .expect_err("randomized needs a count");
    assert!(e.to_string().contains("component count"), "{e}");
}

#[test]
fn auto_follows_scikit_learns_rule() {
    let p = Pca::new(3);
    assert_eq!(p.pick_solver(10_000, 16), PcaSolver::CovarianceEigh);
    assert_eq!(p.pick_solver(400, 300), PcaSolver::Full);
    assert_eq!(p.pick_solver(10_000, 10_000), PcaSolver::Randomized);
    assert_eq!(p.pick_solver(2000, 1500), PcaSolver::Randomized);
    assert_eq!(Pca::new(900).pick_solver(2000, 1000), PcaSolver::Full);
    assert_eq!(Pca::variance(0.9).pick_solver(2000, 1500), PcaSolver::Full);
    assert_eq!(Pca::all().pick_solver(2000, 1500), PcaSolver::Full);
    assert_eq!(
        Pca::new(3)
            .svd_solver(PcaSolver::Full)
            .pick_solver(10_000, 16),
        PcaSolver::Full
    );
}

/// The randomized solver against the full one: explained variances within `rel`, and (when
/// `components`) the same directions.
fn randomized_vs_full(x: &Array2<f64>, pca: Pca, rel: f64, components: bool) {
    let k = match pca.n_components {
        NComponents::Count(k) => k,
        _ => unreachable!("a count"),
    };
    let full = Pca::new(k)
        .svd_solver(PcaSolver::Full)
        .fit_ndarray(x)
        .expect("full");
    let rnd = pca.fit_ndarray(x).expect("randomized");
    assert_eq!(rnd.solver, PcaSolver::Randomized);
    for j in 0..k {
        assert_rel(
            rnd.explained_variance[j],
            full.explained_variance[j],
            rel,
            "explained variance",
        );
        assert_rel(
            rnd.explained_variance_ratio[j],
            full.explained_variance_ratio[j],
            rel,
            "explained variance ratio",
        );
        if components {
            let dot: f64 = rnd.components.row(j).dot(&full.components.row(j));
            assert!((dot - 1.0).abs() < 1e-9, "component {j}: dot {dot}");
        }
    }
    assert_rel(
        rnd.noise_variance,
        full.noise_variance,
        rel.max(1e-9),
        "noise variance",
    );
}

#[test]
fn randomized_matches_full_on_a_decaying_spectrum() {
    // Wide (the transposed path, chosen by auto) and tall.
    randomized_vs_full(&decaying(200, 1500), Pca::new(5), 1e-6, true);
    randomized_vs_full(
        &decaying(1200, 150),
        Pca::new(5).svd_solver(PcaSolver::Randomized),
        1e-6,
        true,
    );
    // Every normalizer converges on this spectrum.
    for how in [
        PowerIterationNormalizer::Qr,
        PowerIterationNormalizer::Lu,
        PowerIterationNormalizer::None,
    ] {
        randomized_vs_full(
            &decaying(200, 700),
            Pca::new(4)
                .svd_solver(PcaSolver::Randomized)
                .power_iteration_normalizer(how)
                .n_iter(5),
            1e-6,
            true,
        );
    }
}

#[test]
fn randomized_is_within_a_percent_on_a_flat_spectrum() {
    // Uniform noise: the top singular values are nearly equal, the hard case for a randomized
    // range finder. scikit-learn's randomized_svd with these settings is 0.4-0.7% off on such
    // matrices (3-5% with its defaults).
    let x = Array2::from_shape_fn((500, 2000), |(i, j)| unit((i * 2000 + j) as u64 + 7));
    randomized_vs_full(
        &x,
        Pca::new(3)
            .svd_solver(PcaSolver::Randomized)
            .n_oversamples(30)
            .n_iter(10),
        0.01,
        false,
    );
}

#[test]
fn seeded_randomized_is_reproducible() {
    let x = decaying(150, 600);
    let fit = |seed| {
        Pca::new(3)
            .svd_solver(PcaSolver::Randomized)
            .n_iter(1)
            .seed(seed)
            .fit_ndarray(&x)
            .expect("fit")
    };
    let (a, b, c) = (fit(1), fit(1), fit(2));
    assert_eq!(a.components, b.components);
    assert_eq!(a.explained_variance, b.explained_variance);
    // One power iteration leaves a seed-dependent trace in the last digits.
    assert_ne!(a.explained_variance, c.explained_variance);
}

#[test]
fn transform_and_inverse_transform() {
    let x = data();
    for whiten in [false, true] {
        let m = Pca::all().whiten(whiten).fit_ndarray(&x).expect("fit");
        let z = m.transform_ndarray(&x).expect("transform");
        if whiten {
            // Unit variance along each component.
            for c in z.columns() {
                let var = c.mapv(|v| v * v).sum() / (x.nrows() as f64 - 1.0);
                assert!((var - 1.0).abs() < 1e-10, "{var}");
            }
        }
        let back = m.inverse_transform_ndarray(&z).expect("inverse");
        for (a, b) in back.iter().zip(x.iter()) {
            assert!((a - b).abs() < 1e-10, "{a} vs {b}");
        }
    }
    // Lazily, as expressions: the same numbers.
    let m = Pca::new(2).whiten(true).fit_ndarray(&x).expect("fit");
    let z = m.transform_ndarray(&x).expect("transform");
    let df = crate::frame::DataFrame::from_ndarray(&x, &["x0", "x1", "x2"]).expect("frame");
    let out = m
        .inverse_transform(m.transform(df.lazy()).drop(["x0", "x1", "x2"]))
        .collect()
        .expect("collect");
    let back = m.inverse_transform_ndarray(&z).expect("inverse");
    for (j, name) in ["x0", "x1", "x2"].iter().enumerate() {
        let got = out.column_f64(name).expect("column");
        for (i, v) in got.iter().enumerate() {
            assert!((v.expect("value") - back[[i, j]]).abs() < 1e-10);
        }
    }
}

#[test]
fn float32_input_fits_in_float32() {
    let x = decaying(300, 40);
    let x32 = x.mapv(|v| v as f32);
    for solver in [
        PcaSolver::CovarianceEigh,
        PcaSolver::Full,
        PcaSolver::Randomized,
    ] {
        let a = Pca::new(3).svd_solver(solver).fit_ndarray(&x).expect("f64");
        let b = Pca::new(3)
            .svd_solver(solver)
            .fit_ndarray(&x32)
            .expect("f32");
        for j in 0..3 {
            assert_rel(
                b.explained_variance[j],
                a.explained_variance[j],
                1e-4,
                solver.name(),
            );
            let dot: f64 = a.components.row(j).dot(&b.components.row(j));
            assert!((dot - 1.0).abs() < 1e-4, "{}: {dot}", solver.name());
        }
    }
}

#[test]
fn plan_line_names_non_default_settings() {
    let p = Pca::new(3)
        .svd_solver(PcaSolver::Randomized)
        .n_oversamples(5)
        .n_iter(2)
        .power_iteration_normalizer(PowerIterationNormalizer::Qr)
        .seed(9);
    assert_eq!(
        p.node_text(&["a".into()]),
        "PCA n_components=3 features=[a] solver=randomized n_oversamples=5 n_iter=2 \
         power_iteration_normalizer=QR seed=9"
    );
}
