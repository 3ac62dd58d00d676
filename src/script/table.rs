//! The script vocabulary: every Rust API function, method and constant a script may call, one
//! line each. This file is the place to extend when the API grows.
//!
//! - A new `Expr` method `rolling_mean(self, window: usize) -> Expr`: add
//!   `rolling_mean(window: usize);` to the `Expr` list.
//! - A method whose Rust call needs adapting (a `&str` parameter, a `&T`): give the call,
//!   `sort(column: String, options: SortOptions) => |lf| lf.sort(&column, options);`.
//! - A new type (`KMeans`, `Fill`): add it to `script_types_from!` in `value.rs`, then its
//!   constructors here under `functions!` (`KMeans::new(k: usize);`), its builder methods under
//!   `methods!(r, KMeans; seed(seed: u64);)`, and enum variants under `constants!`
//!   (`Fill::Mean;`). A method returning a new type needs nothing more: `IntoValue` comes
//!   with the registration.
//! - Parameter types are Rust types implementing `FromValue` (`value.rs`): `Expr` (takes
//!   numbers, strings, `Expr`s, like `impl Into<Expr>`), `String` (a `&str` / `impl
//!   Into<String>`), `usize`/`u8`/`i32`/`i64`/`u64`/`f64`/`bool`, `Vec<T>` (arrays, for
//!   `impl IntoIterator`), `Option<T>`, `Ref<T>` (`&T`), and every registered type.

use arrow::datatypes::DataType;

use super::dispatch::{constants, functions, methods, Registry};
use super::value::{ArrayArg, IntoF64, Ref, SortArg};
use crate::expr::{
    all_numeric, col, cols, corr, date, datetime, len, lit, max_horizontal, mean_horizontal,
    min_horizontal, rand_int, rand_normal, rand_uniform, row_index, sum_horizontal, when,
    DtNamespace, Expr, Fill, RankMethod, RankOptions, RollingKind, RollingOptions, Scalar,
    SortOptions, StrNamespace, Then, When,
};
use crate::frame::{Column, DataFrame};
use crate::io::{
    CsvOptions, IpcCompression, IpcWriteOptions, ParquetCompression, ParquetWriteOptions,
    SinkFormat,
};
use crate::ml::{
    KMeans, KMeansModel, LazyKMeans, LazyLinearRegression, LazyMiniBatchKMeans, LazyPca,
    LinearModel, Lstsq, MiniBatchKMeans, Pca, PcaModel, PcaSolver, PowerIterationNormalizer, Svd,
};
use crate::plan::{concat, ExecOptions, JoinType, LazyFrame, LazyGroupBy};
use crate::plan::{full, ones, range, scan_csv, scan_csv_with, scan_ipc, scan_parquet, zeros};

/// Fill the registry.
pub fn register(r: &mut Registry) {
    functions!(r;
        col(name: String);
        cols(names: Vec<String>);
        all_numeric();
        lit(value: Scalar);
        when(cond: Expr);
        scan_csv(path: String);
        scan_csv_with(path: String, options: CsvOptions);
        scan_parquet(path: String);
        scan_ipc(path: String);
        SortOptions::new();
        SortOptions::default();
        CsvOptions::new();
        CsvOptions::default();
        ExecOptions::new();
        ExecOptions::default();
        ParquetWriteOptions::new();
        ParquetWriteOptions::default();
        IpcWriteOptions::new();
        IpcWriteOptions::default();
        DataFrame::new(columns: Vec<Column>);
        Column::new(name: String, values: ArrayArg);
        LazyFrame::from_dataframe(df: DataFrame);
        // Joins and stacking.
        concat(frames: Vec<LazyFrame>);
        // Sources.
        range(start: i64, end: i64);
        zeros(n: usize, cols: Vec<String>);
        ones(n: usize, cols: Vec<String>);
        full(n: usize, cols: Vec<String>, value: Scalar);
        // Row-wise and generated columns.
        row_index();
        rand_uniform(low: IntoF64, high: IntoF64, seed: u64);
        rand_normal(mean: IntoF64, std: IntoF64, seed: u64);
        rand_int(low: i64, high: i64, seed: u64);
        sum_horizontal(exprs: Vec<Expr>);
        mean_horizontal(exprs: Vec<Expr>);
        min_horizontal(exprs: Vec<Expr>);
        max_horizontal(exprs: Vec<Expr>);
        RollingOptions::new(window: usize);
        RankOptions::new();
        RankOptions::default();
        DataType::Decimal128(precision: u8, scale: i8);
        // Aggregates that are functions.
        len();
        corr(a: Expr, b: Expr);
        // Date and time literals.
        date(text: String) => date(&text);
        datetime(text: String) => datetime(&text);
        // Models.
        KMeans::new(k: usize);
        MiniBatchKMeans::new(k: usize);
        Pca::new(n: usize);
        Pca::variance(fraction: f64);
        Pca::all();
    );

    constants!(r;
        f64::NAN;
        f64::INFINITY;
        f64::NEG_INFINITY;
        f64::MAX;
        f64::MIN;
        f64::MIN_POSITIVE;
        f64::EPSILON;
        std::f64::consts::PI;
        std::f64::consts::E;
        i32::MAX;
        i32::MIN;
        i64::MAX;
        i64::MIN;
        u64::MAX;
        usize::MAX;
        DataType::Boolean;
        DataType::Int8;
        DataType::Int16;
        DataType::Int32;
        DataType::Int64;
        DataType::UInt8;
        DataType::UInt16;
        DataType::UInt32;
        DataType::UInt64;
        DataType::Float32;
        DataType::Float64;
        DataType::Utf8;
        DataType::LargeUtf8;
        DataType::Date32;
        DataType::Date64;
        DataType::Null;
        Fill::Mean;
        Fill::Median;
        Fill::Min;
        Fill::Max;
        Fill::Zero;
        Fill::Forward;
        Fill::Backward;
        RollingKind::Sum;
        RollingKind::Mean;
        RollingKind::Min;
        RollingKind::Max;
        RollingKind::Std;
        RollingKind::Var;
        RollingKind::Median;
        ParquetCompression::Uncompressed;
        ParquetCompression::Snappy;
        ParquetCompression::Gzip;
        ParquetCompression::Brotli;
        ParquetCompression::Lz4Raw;
        ParquetCompression::Zstd;
        IpcCompression::Uncompressed;
        IpcCompression::Lz4;
        IpcCompression::Zstd;
        RankMethod::Average;
        RankMethod::Min;
        RankMethod::Max;
        RankMethod::Dense;
        RankMethod::Ordinal;
        PcaSolver::Auto;
        PcaSolver::CovarianceEigh;
        PcaSolver::Full;
        PcaSolver::Randomized;
        PowerIterationNormalizer::Auto;
        PowerIterationNormalizer::Qr;
        PowerIterationNormalizer::Lu;
        PowerIterationNormalizer::None;
        JoinType::Inner;
        JoinType::Left;
        JoinType::Right;
        JoinType::Full;
        JoinType::Semi;
        JoinType::Anti;
        JoinType::Cross;
    );

    methods!(r, Expr;
        gt(other: Expr);
        ge(other: Expr);
        lt(other: Expr);
        le(other: Expr);
        eq(other: Expr);
        neq(other: Expr);
        and(other: Expr);
        or(other: Expr);
        not();
        alias(name: String);
        cast(to: DataType);
        is_nan();
        is_not_nan();
        is_null();
        is_not_null();
        is_infinite();
        is_finite();
        abs();
        sqrt();
        exp();
        ln();
        floor();
        ceil();
        pow(exponent: Expr);
        clip(min: f64, max: f64);
        clip_min(min: f64);
        clip_max(max: f64);
        round(decimals: i32);
        fill_nan(value: Expr);
        fill_null(value: Expr);
        sum();
        mean();
        median();
        min();
        max();
        std(ddof: u8);
        var(ddof: u8);
        count();
        null_count();
        quantile(q: f64);
        arg_min();
        arg_max();
        nan_sum();
        nan_mean();
        nan_median();
        nan_min();
        nan_max();
        nan_std(ddof: u8);
        nan_var(ddof: u8);
        first();
        last();
        n_unique();
        len();
        // Windows over groups.
        over(partition_by: Vec<Expr>);
        // Sorting, indexing, sampling.
        arg_sort(options: SortOptions);
        sort(options: SortOptions);
        gather(indices: Expr);
        take(indices: Expr);
        filter(mask: Expr);
        top_k(k: usize);
        bottom_k(k: usize);
        shuffle(seed: u64);
        sample_n(n: usize, seed: u64, replace: bool);
        sample_frac(frac: f64, seed: u64, replace: bool);
        // Missing values, scaling, windows.
        fill_nan_with(fill: Fill);
        fill_null_with(fill: Fill);
        min_max_scale();
        min_max_scale_range(lo: f64, hi: f64);
        min_max_scale_with(min: Expr, max: Expr);
        min_max_scale_range_with(lo: f64, hi: f64, min: Expr, max: Expr);
        standardize();
        standardize_with(mean: Expr, std: Expr, min: Expr, max: Expr);
        rolling(kind: RollingKind, options: RollingOptions);
        rolling_sum(window: usize);
        rolling_mean(window: usize);
        rolling_min(window: usize);
        rolling_max(window: usize);
        rolling_std(window: usize);
        rolling_var(window: usize);
        rolling_median(window: usize);
        rolling_sum_with(options: RollingOptions);
        rolling_mean_with(options: RollingOptions);
        rolling_min_with(options: RollingOptions);
        rolling_max_with(options: RollingOptions);
        rolling_std_with(options: RollingOptions);
        rolling_var_with(options: RollingOptions);
        rolling_median_with(options: RollingOptions);
        // Windows by time; per-row windows.
        rolling_by(kind: RollingKind, by: Expr, window: String, min_periods: usize)
            => |e| e.rolling_by(kind, by, &window, min_periods);
        rolling_sum_by(by: Expr, window: String) => |e| e.rolling_sum_by(by, &window);
        rolling_mean_by(by: Expr, window: String) => |e| e.rolling_mean_by(by, &window);
        rolling_min_by(by: Expr, window: String) => |e| e.rolling_min_by(by, &window);
        rolling_max_by(by: Expr, window: String) => |e| e.rolling_max_by(by, &window);
        rolling_std_by(by: Expr, window: String) => |e| e.rolling_std_by(by, &window);
        rolling_var_by(by: Expr, window: String) => |e| e.rolling_var_by(by, &window);
        rolling_median_by(by: Expr, window: String) => |e| e.rolling_median_by(by, &window);
        shift(n: i64);
        diff(n: i64);
        cum_sum();
        cum_prod();
        cum_min();
        cum_max();
        cum_count();
        rank(options: RankOptions);
        // Namespaces, membership, ranges.
        dt();
        str();
        is_in(values: Vec<Expr>);
        is_between(lower: Expr, upper: Expr);
    );

    methods!(r, DtNamespace;
        year();
        quarter();
        month();
        day();
        weekday();
        ordinal_day();
        hour();
        minute();
        second();
        date();
        truncate(every: String) => |d| d.truncate(&every);
        total_days();
        total_hours();
        total_minutes();
        total_seconds();
        total_milliseconds();
    );
    methods!(r, StrNamespace;
        starts_with(prefix: String) => |s| s.starts_with(&prefix);
        ends_with(suffix: String) => |s| s.ends_with(&suffix);
        contains(literal: String) => |s| s.contains(&literal);
        contains_regex(pattern: String) => |s| s.contains_regex(&pattern);
        len_chars();
        len_bytes();
        to_uppercase();
        to_lowercase();
        slice(offset: i64, length: u64);
    );

    methods!(r, When;
        then(value: Expr);
    );
    methods!(r, Then;
        when(cond: Expr);
        otherwise(value: Expr);
    );

    methods!(r, LazyFrame;
        filter(predicate: Expr);
        select(exprs: Vec<Expr>);
        with_columns(exprs: Vec<Expr>);
        with_column(expr: Expr);
        sort(column: String, options: SortOptions) => |lf| lf.sort(&column, options);
        sort_by(by: Vec<Expr>, options: SortArg);
        head(n: usize);
        tail(n: usize);
        slice(offset: i64, len: usize);
        drop(columns: Vec<String>);
        rename(existing: Vec<String>, new: Vec<String>);
        gather(indices: Expr);
        // Calls that run a query run in the script's session (the CLI's options).
        collect() => |lf, session| session.collect(lf);
        collect_with(options: Ref<ExecOptions>) => |lf| lf.collect_with(&options.0);
        sink_csv(path: String) => |lf, session| session.sink(lf, &path, SinkFormat::Csv, None);
        sink_parquet(path: String) => |lf, session| {
            session.sink(lf, &path, SinkFormat::Parquet(ParquetWriteOptions::new()), None)
        };
        sink_ipc(path: String) => |lf, session| {
            session.sink(lf, &path, SinkFormat::Ipc(IpcWriteOptions::new()), None)
        };
        sink_csv_with(path: String, options: Ref<ExecOptions>) => |lf, session| {
            session.sink(lf, &path, SinkFormat::Csv, Some(&options.0))
        };
        sink_parquet_with(path: String, write: Ref<ParquetWriteOptions>, options: Ref<ExecOptions>)
            => |lf, session| {
                session.sink(lf, &path, SinkFormat::Parquet(write.0), Some(&options.0))
            };
        sink_ipc_with(path: String, write: Ref<IpcWriteOptions>, options: Ref<ExecOptions>)
            => |lf, session| session.sink(lf, &path, SinkFormat::Ipc(write.0), Some(&options.0));
        describe();
        drop_nans();
        drop_nulls();
        drop_nans_in(columns: Vec<String>);
        drop_nulls_in(columns: Vec<String>);
        sample_n(n: usize, seed: u64, replace: bool);
        sample_frac(frac: f64, seed: u64, replace: bool);
        shuffle(seed: u64);
        group_by(keys: Vec<Expr>);
        unique();
        unique_subset(columns: Vec<String>);
        kmeans(config: KMeans);
        mini_batch_kmeans(config: MiniBatchKMeans);
        pca(config: Pca);
        linear_regression(target: String, features: Vec<String>);
        join(other: LazyFrame, left_on: Vec<Expr>, right_on: Vec<Expr>, how: JoinType);
        inner_join(other: LazyFrame, left_on: String, right_on: String) => |lf| lf.inner_join(other, &left_on, &right_on);
        left_join(other: LazyFrame, left_on: String, right_on: String) => |lf| lf.left_join(other, &left_on, &right_on);
        cross_join(other: LazyFrame);
        with_row_index(name: String) => |lf| lf.with_row_index(&name);
    );

    methods!(r, LazyGroupBy;
        agg(aggs: Vec<Expr>);
        head(n: usize);
    );

    methods!(r, KMeans;
        seed(seed: u64);
        n_init(n_init: usize);
        max_iter(max_iter: usize);
        tol(tol: f64);
        features(names: Vec<String>);
    );
    methods!(r, MiniBatchKMeans;
        batch_size(n: usize);
        max_iter(n: usize);
        max_no_improvement(n: Option<usize>);
        tol(tol: f64);
        init_size(n: usize);
        n_init(n: usize);
        reassignment_ratio(r: f64);
        compute_labels(on: bool);
        seed(seed: u64);
        features(names: Vec<String>);
    );
    methods!(r, Pca;
        whiten(whiten: bool);
        solver(solver: PcaSolver);
        svd_solver(solver: PcaSolver);
        n_oversamples(n: usize);
        n_iter(n: usize);
        power_iteration_normalizer(how: PowerIterationNormalizer);
        seed(seed: u64);
        features(names: Vec<String>);
    );
    methods!(r, LazyKMeans;
        fit() => |m, session| m.fit_with(session.options());
    );
    methods!(r, LazyMiniBatchKMeans;
        fit();
    );
    methods!(r, LazyPca;
        fit() => |m, session| m.fit_with(session.options());
    );
    methods!(r, LazyLinearRegression;
        fit() => |m, session| m.fit_with(session.options());
    );
    // Fitted models score new data lazily; their methods borrow the model.
    methods!(r, ref KMeansModel;
        predict(lf: LazyFrame);
        to_dataframe();
        k();
    );
    methods!(r, ref PcaModel;
        transform(lf: LazyFrame);
        component_exprs();
        inverse_transform(lf: LazyFrame);
        inverse_exprs();
        to_dataframe();
        n_components();
    );
    methods!(r, ref LinearModel;
        predict(lf: LazyFrame);
        prediction_expr();
        to_dataframe();
    );

    methods!(r, RankOptions;
        method(method: RankMethod);
        descending(descending: bool);
    );

    methods!(r, RollingOptions;
        min_periods(n: usize);
        center(center: bool);
        weights(weights: Vec<f64>);
        ddof(ddof: u8);
    );

    methods!(r, DataFrame;
        lazy();
    );
    methods!(r, ref DataFrame;
        height();
        width();
        size();
        head(n: usize);
        tail(n: usize);
        slice(offset: usize, len: usize);
        // Linear algebra on the frame as a matrix (rows are observations).
        svd();
        solve(b: Ref<DataFrame>) => |df| df.solve(&b.0);
        lstsq(b: Ref<DataFrame>) => |df| df.lstsq(&b.0);
        mean_squared_error(other: Ref<DataFrame>) => |df| df.mean_squared_error(&other.0);
    );
    methods!(r, ref Svd;
        reconstruct(k: usize);
        to_dataframe();
        len();
    );
    methods!(r, ref Lstsq;
        to_dataframe();
        rank();
    );

    methods!(r, SortOptions;
        descending(descending: bool);
        nulls_last(nulls_last: bool);
        stable(stable: bool);
    );

    methods!(r, CsvOptions;
        delimiter(d: u8);
        has_header(h: bool);
        quote(q: u8);
        null_value(v: String);
        infer_schema_length(n: Option<usize>);
        schema_override(column: String, dtype: DataType);
        date_format(column: String, format: String);
        datetime_format(column: String, format: String);
        skip_rows(n: usize);
    );

    methods!(r, ExecOptions;
        threads(n: usize);
        optimize(on: bool);
        memory_limit(bytes: usize);
        temp_dir(dir: String);
    );

    methods!(r, ParquetWriteOptions;
        compression(compression: ParquetCompression);
        compression_level(level: i32);
        row_group_bytes(bytes: usize);
        row_group_rows(rows: usize);
        statistics(on: bool);
    );
    methods!(r, IpcWriteOptions;
        stream(stream: bool);
        compression(compression: IpcCompression);
    );

    // Plots (`df.plot().scatter(..)`, models' `plot`) live with the plot module.
    #[cfg(feature = "plot")]
    super::plot::register(r);
}
