//! Decoding morsels: byte ranges of whole records, parsed straight into Arrow buffers.
//!
//! [`CsvMorsels`] holds the mapped file and the list of byte ranges (cut once at open). A call
//! to `morsel(i)` walks the records of range `i`, splits every field (to find record ends and
//! check field counts) but parses only the projected ones, each into a [`Sink`] (see the sink
//! module), and the sinks become the morsel's Arrow columns.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::infer::{column_label, field_count_error, TypeSettings};
use super::seps::Seps;
use super::sink::{Sink, Temporal};
use super::split::{self, FieldErrorKind};
use super::{Bytes, CsvOptions, ErrorContext, Layout, NullValues};
use crate::error::{Error, Result};
use crate::frame::DataFrame;
use crate::io::MorselSource;

/// What to build for one distinct projected file column.
struct Target {
    dtype: DataType,
    temporal: Temporal,
}

/// The morsels of one CSV file, for the projected columns.
pub(crate) struct CsvMorsels {
    path: PathBuf,
    data: Arc<Bytes>,
    layout: Layout,
    ranges: Vec<(usize, usize)>,
    /// Output schema: the projection, in projection order.
    schema: SchemaRef,
    /// For each file column, the index of its sink, if projected.
    sink_of: Vec<Option<usize>>,
    targets: Vec<Target>,
    /// For each output column, its sink.
    output: Vec<usize>,
    nulls: NullValues,
    /// Average bytes per record in the data, to size buffers once.
    bytes_per_row: usize,
    /// For each file column, whether its type was inferred (not set by the user), and from
    /// how many rows: a value that does not fit then gets a hint on how to fix it.
    inferred: Vec<bool>,
    infer_rows: Option<usize>,
}

impl CsvMorsels {
    pub fn new(
        data: Arc<Bytes>,
        path: &Path,
        options: &CsvOptions,
        schema: &SchemaRef,
        columns: &[String],
        target_bytes: usize,
    ) -> Result<Self> {
        let layout = Layout::discover(&data, path, options)?;
        let file_names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        if layout.names.len() != file_names.len() {
            return Err(Error::Schema(format!(
                "{} changed since its schema was read: it now has {} columns, not {}",
                path.display(),
                layout.names.len(),
                file_names.len()
            )));
        }
        let settings = TypeSettings::resolve(&layout.names, options)?;
        let mut sink_of = vec![None; file_names.len()];
        let mut targets = vec![];
        let mut output = vec![];
        let mut fields = vec![];
        for c in columns {
            let i = file_names
                .iter()
                .position(|n| n == c)
                .ok_or_else(|| Error::column_not_found(c, file_names.iter().copied()))?;
            let field = schema.field(i);
            let s = match sink_of[i] {
                Some(s) => s,
                None => {
                    let temporal = match &settings.formats[i] {
                        Some(f) => Temporal::User(f.clone()),
                        None => Temporal::Iso,
                    };
                    // Fail at open, not in every morsel, on a type the reader cannot build.
                    Sink::new(field.data_type(), temporal.clone(), 0)?;
                    targets.push(Target {
                        dtype: field.data_type().clone(),
                        temporal,
                    });
                    sink_of[i] = Some(targets.len() - 1);
                    targets.len() - 1
                }
            };
            output.push(s);
            fields.push(Field::new(c, field.data_type().clone(), true));
        }
        let ranges = split::morsel_ranges(
            &data,
            layout.data_start,
            layout.data_end,
            layout.dialect,
            target_bytes,
        );
        let bytes_per_row = estimate_row_bytes(&data, &layout);
        Ok(Self {
            path: path.to_path_buf(),
            data,
            layout,
            ranges,
            schema: Arc::new(Schema::new(fields)),
            sink_of,
            targets,
            output,
            nulls: NullValues::new(options),
            bytes_per_row,
            inferred: settings.fixed.iter().map(Option::is_none).collect(),
            infer_rows: options.infer_schema_length,
        })
    }

    fn decode(&self, i: usize) -> Result<DataFrame> {
        let (start, end) = self.ranges[i];
        let _held = self.data.hold(start, end);
        let buf: &[u8] = &self.data;
        let ncols = self.layout.names.len();
        let cap = (end - start) / self.bytes_per_row + 16;
        let mut sinks: Vec<Sink> = self
            .targets
            .iter()
            .map(|t| Sink::new(&t.dtype, t.temporal.clone(), cap))
            .collect::<Result<_>>()?;
        let sink_of = &self.sink_of;
        let nulls = &self.nulls;
        let d = self.layout.dialect;
        let mut scratch = vec![];
        let mut seps = Seps::new(buf, end, d.delim);
        let mut rows = 0usize;
        let mut pos = start;
        while pos < end {
            if let Some(next) = split::blank_line(buf, pos, end) {
                pos = next;
                // In a one-column file an empty line is a null; elsewhere it is skipped.
                if ncols == 1 {
                    for s in &mut sinks {
                        s.push_null();
                    }
                    rows += 1;
                }
                continue;
            }
            let record_start = pos;
            let r = split::parse_record(
                buf,
                pos,
                end,
                d,
                &mut seps,
                &mut scratch,
                |j, text, quoted, _| match sink_of.get(j) {
                    Some(Some(s)) => sinks[*s].push(text, quoted, nulls),
                    _ => Ok(()),
                },
            );
            let (next, n) = r.map_err(|e| self.field_error(e, &sinks, buf, i))?;
            if n != ncols {
                let ctx = ErrorContext::new(&self.path, buf);
                return Err(field_count_error(&ctx, &self.layout.names, record_start, n));
            }
            rows += 1;
            pos = next;
        }
        if self.output.is_empty() {
            return Ok(DataFrame::with_height(rows));
        }
        let arrays: Vec<ArrayRef> = sinks.into_iter().map(Sink::finish).collect::<Result<_>>()?;
        let columns = self.output.iter().map(|s| arrays[*s].clone()).collect();
        DataFrame::from_arrays(self.schema.clone(), columns)
    }

    /// Turn a field failure into an [`Error::Csv`] naming the line, the column, the text and
    /// the expected type.
    fn field_error(
        &self,
        e: split::FieldError,
        sinks: &[Sink],
        buf: &[u8],
        morsel: usize,
    ) -> Error {
        let ctx = ErrorContext::new(&self.path, buf);
        let name = column_label(&self.layout.names, e.field);
        match e.kind {
            FieldErrorKind::Unterminated => {
                ctx.error(e.offset, name, super::split_error_message(e.kind))
            }
            FieldErrorKind::Rejected => {
                // Re-split the field to show its text (the error path can afford it).
                let end = self.ranges[morsel].1;
                let mut text = vec![];
                let mut scratch = vec![];
                let mut seps = Seps::new(buf, end, self.layout.dialect.delim);
                let _ = split::parse_record(
                    buf,
                    e.offset,
                    end,
                    self.layout.dialect,
                    &mut seps,
                    &mut scratch,
                    |j, t, _, _| {
                        if j == 0 {
                            text = t.to_vec();
                        }
                        Err(FieldErrorKind::Rejected)
                    },
                );
                let expected = self
                    .sink_of
                    .get(e.field)
                    .copied()
                    .flatten()
                    .map_or_else(|| "a value".to_string(), |s| sinks[s].expected());
                let hint = match (self.inferred.get(e.field), self.infer_rows) {
                    (Some(true), Some(n)) => format!(
                        "; the type was inferred from the first {n} rows: raise \
                         infer_schema_length or set a schema_override for this column"
                    ),
                    _ => String::new(),
                };
                ctx.error(
                    e.offset,
                    name,
                    format!(
                        "cannot parse {} as {expected}{hint}",
                        super::show_text(&text)
                    ),
                )
            }
        }
    }
}

/// Average record length over the first rows (at least 1), to pre-size builders.
fn estimate_row_bytes(buf: &[u8], layout: &Layout) -> usize {
    let sample_end = (layout.data_start + (64 << 10)).min(layout.data_end);
    let sample = &buf[layout.data_start..sample_end];
    let lines = memchr::memchr_iter(b'\n', sample).count().max(1);
    (sample.len() / lines).max(1)
}

impl MorselSource for CsvMorsels {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn num_morsels(&self) -> usize {
        self.ranges.len()
    }

    fn morsel(&self, i: usize) -> Result<DataFrame> {
        if i >= self.ranges.len() {
            return Err(Error::Internal(format!(
                "CSV morsel {i} requested, the file has {}",
                self.ranges.len()
            )));
        }
        self.decode(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{Date32Type, Int32Type, TimeUnit};
    use proptest::prelude::*;

    /// Read CSV text fully through inference and morsels of `target` bytes.
    fn read_with(
        text: &[u8],
        options: &CsvOptions,
        columns: Option<&[&str]>,
        target: usize,
    ) -> Result<DataFrame> {
        let path = Path::new("t.csv");
        let schema = super::super::infer::infer_schema_bytes(text, path, options)?;
        let columns: Vec<String> = match columns {
            Some(c) => c.iter().map(|s| s.to_string()).collect(),
            None => schema.fields().iter().map(|f| f.name().clone()).collect(),
        };
        let data = Arc::new(Bytes::owned(text.to_vec()));
        let m = CsvMorsels::new(data, path, options, &schema, &columns, target)?;
        let parts = (0..m.num_morsels())
            .map(|i| m.morsel(i))
            .collect::<Result<Vec<_>>>()?;
        if parts.is_empty() {
            return Ok(DataFrame::empty(m.schema()));
        }
        if m.schema().fields().is_empty() {
            return Ok(DataFrame::with_height(
                parts.iter().map(|p| p.height()).sum(),
            ));
        }
        DataFrame::vstack(m.schema(), &parts)
    }

    fn read(text: &str) -> DataFrame {
        read_with(text.as_bytes(), &CsvOptions::new(), None, MORSEL_TEST).unwrap()
    }

    const MORSEL_TEST: usize = 1 << 20;

    fn strings(df: &DataFrame, c: &str) -> Vec<Option<String>> {
        df.column(c)
            .unwrap()
            .as_string::<i32>()
            .iter()
            .map(|s| s.map(str::to_string))
            .collect()
    }

    fn csv_error(e: Error) -> (u64, String, String) {
        match e {
            Error::Csv {
                line,
                column,
                message,
                ..
            } => (line, column, message),
            other => panic!("not a CSV error: {other}"),
        }
    }

    #[test]
    fn a_mapped_file_is_held_a_range_per_worker() {
        // 40,000 rows of about 30 bytes: 1.2 MB in ranges of 64 KiB, read on 2 workers.
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.csv");
        let mut text = b"a,b,c\n".to_vec();
        for i in 0..40_000 {
            text.extend(format!("{i},{}.25,\"name {}\"\n", i * 7, i % 13).bytes());
        }
        std::fs::write(&path, &text).expect("write");
        let options = CsvOptions::default();
        let schema = super::super::infer_schema(&path, &options).expect("schema");
        let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let data = Arc::new(Bytes::load(&path).expect("load"));
        let target = 64 << 10;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("pool");
        let (m, parts) = pool.install(|| {
            let m = CsvMorsels::new(data.clone(), &path, &options, &schema, &columns, target)
                .expect("open");
            use rayon::prelude::*;
            let parts = (0..m.num_morsels())
                .into_par_iter()
                .map(|i| m.morsel(i))
                .collect::<Result<Vec<_>>>()
                .expect("morsels");
            (m, parts)
        });
        assert!(m.num_morsels() > 10);
        let longest = m.ranges.iter().map(|(s, e)| e - s).max().unwrap_or(0);
        // The quote check and the decoding each held at most one range (or check chunk) per
        // worker at a time, and gave everything back.
        assert!(data.peak_held() > 0);
        assert!(
            data.peak_held() <= 2 * longest.max(target),
            "{} bytes held at once, ranges of at most {longest}",
            data.peak_held()
        );
        assert_eq!(data.held(), 0);
        let rows: usize = parts.iter().map(DataFrame::height).sum();
        assert_eq!(rows, 40_000);
        let want = read_with(&text, &options, None, target).expect("read");
        let got = DataFrame::vstack(m.schema(), &parts).expect("vstack");
        assert!(got.equals(&want));
    }

    #[test]
    fn values_nulls_and_specials() {
        let df = read("i,f,s,b\n1,1.5,x,true\n,nan,,\n-3,-Infinity,\"\",FALSE\r\n4,inf,\"a,\"\"b\"\"\",\n\n\n");
        assert_eq!(df.shape(), (4, 4));
        assert_eq!(
            df.column_f64("i").unwrap(),
            [Some(1.0), None, Some(-3.0), Some(4.0)]
        );
        let f = df.column_f64("f").unwrap();
        assert_eq!(f[0], Some(1.5));
        assert!(f[1].unwrap().is_nan());
        assert_eq!(f[2], Some(f64::NEG_INFINITY));
        assert_eq!(f[3], Some(f64::INFINITY));
        assert_eq!(
            strings(&df, "s"),
            [
                Some("x".into()),
                None,
                Some("".into()),
                Some("a,\"b\"".into())
            ]
        );
        let b = df.column("b").unwrap().as_boolean();
        assert_eq!(
            b.iter().collect::<Vec<_>>(),
            [Some(true), None, Some(false), None]
        );
    }

    #[test]
    fn null_values_and_dates() {
        let o = CsvOptions::new()
            .null_value("NA")
            .date_format("d", "%d/%m/%Y")
            .schema_override("n", DataType::Int32);
        let df = read_with(
            b"d,n,t\n31/12/1999,NA,2020-01-01 00:00:00.5\nNA,7,2020-01-02\n",
            &o,
            None,
            MORSEL_TEST,
        )
        .unwrap();
        let d = df.column("d").unwrap().as_primitive::<Date32Type>();
        assert_eq!(d.iter().collect::<Vec<_>>(), [Some(10956), None]);
        let n = df.column("n").unwrap().as_primitive::<Int32Type>();
        assert_eq!(n.iter().collect::<Vec<_>>(), [None, Some(7)]);
        let t = df.column("t").unwrap();
        assert_eq!(
            t.data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, None)
        );
        let t = t.as_primitive::<arrow::datatypes::TimestampMicrosecondType>();
        assert_eq!(
            t.values().to_vec(),
            [1_577_836_800_500_000, 1_577_923_200_000_000]
        );
    }

    #[test]
    fn projection_reads_only_what_is_asked_in_that_order() {
        let text = b"a,b,c\n1,x,2.5\n2,y,bad-but-unread\n";
        let o = CsvOptions::new().schema_override("c", DataType::Float64);
        let df = read_with(text, &o, Some(&["b", "a"]), MORSEL_TEST).unwrap();
        assert_eq!(df.column_names(), ["b", "a"]);
        assert_eq!(df.column_f64("a").unwrap(), [Some(1.0), Some(2.0)]);
        let df = read_with(text, &o, Some(&[]), MORSEL_TEST).unwrap();
        assert_eq!(df.shape(), (2, 0));
        let e = read_with(text, &o, None, MORSEL_TEST).unwrap_err();
        let (line, col, msg) = csv_error(e);
        assert_eq!((line, col.as_str()), (3, "c"));
        assert!(
            msg.contains("\"bad-but-unread\"") && msg.contains("Float64"),
            "{msg}"
        );
    }

    #[test]
    fn errors_name_line_and_column() {
        let text = b"a,b\n1,2\n\"multi\nline\",3\n4,abc\n";
        let o = CsvOptions::new().schema_override("b", DataType::Int64);
        for target in [1, 5, 100] {
            let e = read_with(text, &o, None, target).unwrap_err();
            let (line, col, msg) = csv_error(e);
            assert_eq!((line, col.as_str()), (5, "b"), "target {target}");
            assert_eq!(msg, "cannot parse \"abc\" as Int64 (a 64-bit integer)");
        }
        let e = read_with(b"a,b,c\n1,2,3\n4,5\n", &CsvOptions::new(), None, 4).unwrap_err();
        let (line, col, msg) = csv_error(e);
        assert_eq!(
            (line, col.as_str(), msg.as_str()),
            (3, "c", "expected 3 fields, found 2")
        );
        let o = CsvOptions::new().infer_schema_length(Some(1));
        let e = read_with(b"a,b\n1,2\n4,5,6\n", &o, None, 4).unwrap_err();
        let (line, col, msg) = csv_error(e);
        assert_eq!(
            (line, col.as_str(), msg.as_str()),
            (3, "extra field 3", "expected 2 fields, found 3")
        );
        let e = read_with(b"a,b\n1,2\n4,\"5\n6,7\n", &o, None, 4).unwrap_err();
        let (line, col, msg) = csv_error(e);
        assert_eq!((line, col.as_str()), (3, "b"));
        assert!(msg.contains("unterminated"), "{msg}");
        let o = CsvOptions::new().date_format("d", "%Y/%m/%d");
        let e = read_with(b"d\n2020/01/01\n2020-01-02\n", &o, None, 4).unwrap_err();
        let (line, _, msg) = csv_error(e);
        assert_eq!(line, 3);
        assert!(
            msg.contains("\"2020-01-02\"") && msg.contains("%Y/%m/%d"),
            "{msg}"
        );
        let e = read_with(b"s\n\xff\xfe\n", &CsvOptions::new(), None, 4).unwrap_err();
        assert_eq!(csv_error(e).0, 2);
    }

    #[test]
    fn inferred_types_that_do_not_fit_later_rows_say_how_to_fix_it() {
        let o = CsvOptions::new().infer_schema_length(Some(2));
        let e = read_with(b"a\n1\n2\n1.5\n", &o, None, 4).unwrap_err();
        let (line, _, msg) = csv_error(e);
        assert_eq!(line, 4);
        assert!(
            msg.contains("first 2 rows") && msg.contains("schema_override"),
            "{msg}"
        );
    }

    #[test]
    fn skip_rows_skips_a_preamble_and_keeps_line_numbers() {
        let o = CsvOptions::new().skip_rows(2);
        let text = b"exported by a tool\n\"unbalanced quote\na,b\n1,2\n3,x\n";
        let df = read_with(text, &o, Some(&["a"]), 4).unwrap();
        assert_eq!(df.column_f64("a").unwrap(), [Some(1.0), Some(3.0)]);
        let e = read_with(text, &o.schema_override("b", DataType::Int64), None, 4).unwrap_err();
        assert_eq!(csv_error(e).0, 5);
    }

    #[test]
    fn one_column_blank_lines_are_nulls() {
        let df = read("x\n1\n\n3\n\n\n");
        assert_eq!(df.column_f64("x").unwrap(), [Some(1.0), None, Some(3.0)]);
        let df = read("x,y\n\n1,2\n\n3,4\n");
        assert_eq!(df.height(), 2);
    }

    #[test]
    fn headers_and_empty_files() {
        let df = read("a,b\n");
        assert_eq!(df.shape(), (0, 2));
        let df = read("\u{feff}a,b\n1,2");
        assert_eq!(df.column_names(), ["a", "b"]);
        let o = CsvOptions::new().has_header(false);
        let df = read_with(b"", &o, None, 4).unwrap();
        assert_eq!(df.shape(), (0, 0));
        let df = read_with(b"1;2\n3;4\n", &o.delimiter(b';'), None, 4).unwrap();
        assert_eq!(df.column_f64("column_2").unwrap(), [Some(2.0), Some(4.0)]);
        assert!(read_with(b"", &CsvOptions::new(), None, 4).is_err());
        let bad = CsvOptions::new().delimiter(b'"');
        assert!(read_with(b"a\n1\n", &bad, None, 4).is_err());
    }

    #[test]
    fn any_morsel_size_gives_the_same_frame() {
        let text = "id,s,f\n1,\"a\nb\",1.5\n2,\"x,\"\"y\"\"\",\n3,5'10\",nan\n4,\"\",-inf\r\n5,plain,2\n\n6,\"\"\"\",3e2\n";
        let whole = read(text);
        assert_eq!(whole.height(), 6);
        for target in 1..text.len() + 2 {
            let df = read_with(text.as_bytes(), &CsvOptions::new(), None, target).unwrap();
            assert!(df.equals(&whole), "target {target}");
        }
    }

    const VALID: &str = "a,b,c,d\n1,2.5,\"x,y\",2020-01-01\n2,nan,\"multi\nline\",2020-01-02\n3,,plain,\n4,-inf,\"q\"\"q\",2021-12-31\n";

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), target in 1usize..64) {
            let _ = read_with(&bytes, &CsvOptions::new(), None, target);
            let _ = read_with(&bytes, &CsvOptions::new().has_header(false), None, target);
        }

        #[test]
        fn mangled_csv_never_panics(cut in 0usize..VALID.len(), drop_at in 0usize..VALID.len(), insert in any::<u8>(), target in 1usize..64) {
            let mut v = VALID.as_bytes()[..cut].to_vec();
            let _ = read_with(&v, &CsvOptions::new(), None, target);
            let mut w = VALID.as_bytes().to_vec();
            w.remove(drop_at);
            let _ = read_with(&w, &CsvOptions::new(), None, target);
            v = VALID.as_bytes().to_vec();
            v.insert(drop_at, insert);
            let _ = read_with(&v, &CsvOptions::new().null_value("x"), Some(&["c", "a"]), target);
        }
    }
}
