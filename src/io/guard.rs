//! The last line of defence against a decoder that panics on a malformed file.
//!
//! The readers check what they can before handing bytes to arrow and parquet (block bounds,
//! message lengths, footers), so malformed input normally ends in an ordinary error. A panic
//! that still escapes a dependency's decoder, on the caller's thread or in a rayon worker
//! decoding a morsel, is caught here at the scan boundary and becomes
//! [`Error::Internal`] naming the file, instead of unwinding through the executor and killing
//! the process. Only the reader's own work is guarded: a panic in the consumer a morsel is
//! handed to keeps unwinding as it would without the guard, so it is never blamed on the
//! file.

use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use arrow::datatypes::SchemaRef;

use super::MorselSource;
use crate::error::{Error, Result};
use crate::frame::DataFrame;

/// Run `f` (reading `path`); a panic inside becomes an internal error naming the file.
pub(crate) fn catch<T>(format: &str, path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|payload| Err(panicked(format, path, &*payload)))
}

fn panicked(format: &str, path: &Path, payload: &(dyn Any + Send)) -> Error {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into());
    Error::Internal(format!(
        "the {format} decoder panicked on {} (a malformed file it failed to reject): {message}",
        path.display()
    ))
}

/// A [`MorselSource`] whose decoding is guarded by [`catch`].
pub(crate) struct Guarded {
    pub(crate) inner: Box<dyn MorselSource>,
    pub(crate) format: &'static str,
    pub(crate) path: PathBuf,
}

impl MorselSource for Guarded {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn num_morsels(&self) -> usize {
        self.inner.num_morsels()
    }

    fn morsel_rows(&self, i: usize) -> Option<usize> {
        self.inner.morsel_rows(i)
    }

    fn morsel(&self, i: usize) -> Result<DataFrame> {
        catch(self.format, &self.path, || self.inner.morsel(i))
    }

    fn for_each_piece(
        &self,
        i: usize,
        rows: usize,
        f: &mut dyn FnMut(DataFrame) -> Result<()>,
    ) -> Result<()> {
        // A panic in `f` is the consumer's: carry it past the guard and re-raise it.
        let mut consumer_panic = None;
        let result =
            catch(self.format, &self.path, || {
                self.inner
                    .for_each_piece(i, rows, &mut |piece| match catch_unwind(AssertUnwindSafe(
                        || f(piece),
                    )) {
                        Ok(r) => r,
                        Err(payload) => {
                            consumer_panic = Some(payload);
                            Err(Error::Internal("consumer panicked".into()))
                        }
                    })
            });
        if let Some(payload) = consumer_panic {
            resume_unwind(payload);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    struct Panicky;

    impl MorselSource for Panicky {
        fn schema(&self) -> SchemaRef {
            Arc::new(arrow::datatypes::Schema::empty())
        }
        fn num_morsels(&self) -> usize {
            1
        }
        fn morsel(&self, _: usize) -> Result<DataFrame> {
            panic!("index out of bounds in a decoder")
        }
    }

    #[test]
    fn a_decoder_panic_becomes_an_internal_error_naming_the_file() {
        let g = Guarded {
            inner: Box::new(Panicky),
            format: "Arrow IPC",
            path: "bad.arrow".into(),
        };
        let e = g.morsel(0).unwrap_err();
        assert!(!e.is_user_error());
        let msg = e.to_string();
        assert!(
            msg.contains("bad.arrow") && msg.contains("index out of bounds"),
            "{msg}"
        );
        // The default `for_each_piece` decodes through `morsel`: guarded the same way.
        assert!(g.for_each_piece(0, 10, &mut |_| Ok(())).is_err());
    }

    #[test]
    fn a_consumer_panic_is_not_blamed_on_the_file() {
        struct One;
        impl MorselSource for One {
            fn schema(&self) -> SchemaRef {
                Arc::new(arrow::datatypes::Schema::empty())
            }
            fn num_morsels(&self) -> usize {
                1
            }
            fn morsel(&self, _: usize) -> Result<DataFrame> {
                Ok(DataFrame::empty(self.schema()))
            }
        }
        let g = Guarded {
            inner: Box::new(One),
            format: "Parquet",
            path: "ok.parquet".into(),
        };
        let r = catch_unwind(AssertUnwindSafe(|| {
            g.for_each_piece(0, 10, &mut |_| panic!("consumer bug"))
        }));
        assert!(r.is_err(), "the consumer's panic must keep unwinding");
    }
}
