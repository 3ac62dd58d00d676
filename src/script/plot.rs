//! The plot vocabulary of query scripts: `df.plot()` / `lf.plot()`, the four kinds, the
//! styling methods and the models' pictures, registered in the script interpreter's tables
//! (see `script::table`) exactly as the Rust API spells them, so a script that ends with a
//! plot is also valid Rust. The CLI writes such a script's picture with `--output fig.svg`.
//!
//! It lives with the scripts, not with the plots: scripts sit above `plot` in the crate's
//! layers (the picture types know nothing of the interpreter).

use super::dispatch::{methods, Registry};
use super::value::{FromValue, IntoValue, Object, ScriptType, Value};
use crate::frame::DataFrame;
use crate::ml::{KMeansModel, PcaModel};
use crate::plan::LazyFrame;
use crate::plot::{ImageFormat, Plot, PlotBuilder};

/// `ScriptType` and the value conversions for the plot types.
macro_rules! plot_types {
    ($($t:ident),*) => {$(
        impl ScriptType for $t {
            const NAME: &'static str = stringify!($t);
        }
        impl IntoValue for $t {
            fn into_value(self) -> Value {
                Value::Object(Object::new(self))
            }
        }
        impl FromValue for $t {
            fn type_name() -> String {
                stringify!($t).into()
            }
            fn from_value(v: Value) -> Result<Self, String> {
                v.into_object::<$t>().map_err(|v| {
                    format!("expected {}, found {}", stringify!($t), v.describe())
                })
            }
        }
    )*};
}

plot_types!(Plot, PlotBuilder);

/// Add the plot entries to the script tables.
pub(crate) fn register(r: &mut Registry) {
    methods!(r, ref DataFrame;
        plot();
    );
    methods!(r, LazyFrame;
        plot();
    );
    methods!(r, PlotBuilder;
        scatter(x: String, y: String);
        line(x: String, ys: Vec<String>);
        hist(column: String, bins: usize);
        bar(label: String, value: String);
    );
    methods!(r, Plot;
        color_by(column: String);
        title(title: String);
        x_label(label: String);
        y_label(label: String);
        size(width: u32, height: u32);
    );
    methods!(r, ref KMeansModel;
        plot(data: LazyFrame);
    );
    methods!(r, ref PcaModel;
        plot();
    );
}

/// What `fusedframe run` does about pictures: a script ending with a plot is drawn into
/// `--output fig.svg` / `fig.png` (the query runs with the `--threads` given), or, printed as a
/// table without `--output`, described with a hint; a picture path for a script that does not
/// end with a plot is an error. `None` leaves the run to the table path (a plot's columns as
/// CSV, JSON or a data file).
pub(crate) fn run_picture(
    ev: &super::Evaluated,
    options: &super::run::RunOptions,
    out: &mut dyn std::io::Write,
) -> Option<crate::Result<()>> {
    use super::output::Format;
    use super::Output;
    use crate::error::Error;

    let picture = options
        .output
        .as_deref()
        .filter(|p| ImageFormat::from_path(p).is_some());
    let Output::Plot(plot) = &ev.output else {
        return picture.map(|p| {
            Err(Error::Plan(format!(
                "{} is a picture, but the script does not end with a plot; end it with one, \
                 such as `df.plot().scatter(\"x\", \"y\")`",
                p.display()
            )))
        });
    };
    let exec = crate::plan::ExecOptions {
        threads: options.threads,
        memory_limit: options.memory_limit,
        temp_dir: options.temp_dir.clone(),
        ..Default::default()
    };
    match (picture, &options.output) {
        (Some(path), _) => Some(plot.save_with(path, &exec).map_err(|e| ev.locate(e))),
        (None, None) if options.format == Format::Table => Some(
            writeln!(
                out,
                "{}\nwrite the picture with --output FILE.svg or --output FILE.png",
                plot.describe()
            )
            .map_err(|e| Error::io("<stdout>", e)),
        ),
        _ => None,
    }
}
