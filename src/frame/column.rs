//! `Column` (a name and an Arrow array) and `IntoArray`, the conversions that let `df!` and
//! `Column::new` take plain Rust vectors, arrays and slices.
//!
//! Integer literals become Int64 whatever their Rust width (NumPy's default integer), floats
//! Float64 (f32 stays Float32), `Option<T>` gives nulls, `&str`/`String` give Utf8.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Float32Array, Float64Array, Int64Array, StringArray,
};

/// A named Arrow array.
#[derive(Clone, Debug)]
pub struct Column {
    name: String,
    array: ArrayRef,
}

impl Column {
    /// A column from anything convertible to an Arrow array.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let c = Column::new("x", vec![Some(1.0), None, Some(3.0)]);
    /// assert_eq!(c.len(), 3);
    /// ```
    pub fn new(name: impl Into<String>, values: impl IntoArray) -> Self {
        Self {
            name: name.into(),
            array: values.into_array(),
        }
    }

    /// The column's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The column's values.
    pub fn array(&self) -> &ArrayRef {
        &self.array
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.array.len()
    }

    /// True when the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.array.is_empty()
    }

    pub(crate) fn into_array(self) -> ArrayRef {
        self.array
    }
}

/// Values that can become one Arrow array.
pub trait IntoArray {
    /// Convert into an Arrow array.
    fn into_array(self) -> ArrayRef;
}

impl IntoArray for ArrayRef {
    fn into_array(self) -> ArrayRef {
        self
    }
}

macro_rules! into_array_via {
    ($arr:ty, $out:ty; $($t:ty),*) => {$(
        impl IntoArray for Vec<$t> {
            fn into_array(self) -> ArrayRef {
                Arc::new(<$arr>::from_iter_values(self.into_iter().map(|v| v as $out)))
            }
        }
        impl IntoArray for Vec<Option<$t>> {
            fn into_array(self) -> ArrayRef {
                Arc::new(self.into_iter().map(|v| v.map(|v| v as $out)).collect::<$arr>())
            }
        }
        impl IntoArray for &[$t] {
            fn into_array(self) -> ArrayRef {
                self.to_vec().into_array()
            }
        }
        impl IntoArray for &[Option<$t>] {
            fn into_array(self) -> ArrayRef {
                self.to_vec().into_array()
            }
        }
        impl<const N: usize> IntoArray for [$t; N] {
            fn into_array(self) -> ArrayRef {
                self.to_vec().into_array()
            }
        }
        impl<const N: usize> IntoArray for [Option<$t>; N] {
            fn into_array(self) -> ArrayRef {
                self.to_vec().into_array()
            }
        }
    )*};
}

into_array_via!(Int64Array, i64; i8, i16, i32, i64, u8, u16, u32);
into_array_via!(Float64Array, f64; f64);
into_array_via!(Float32Array, f32; f32);

macro_rules! into_array_other {
    ($arr:ty; $($t:ty),*) => {$(
        impl IntoArray for Vec<$t> {
            fn into_array(self) -> ArrayRef {
                Arc::new(<$arr>::from_iter(self.into_iter().map(Some)))
            }
        }
        impl IntoArray for Vec<Option<$t>> {
            fn into_array(self) -> ArrayRef {
                Arc::new(<$arr>::from_iter(self))
            }
        }
        impl<const N: usize> IntoArray for [$t; N] {
            fn into_array(self) -> ArrayRef {
                self.to_vec().into_array()
            }
        }
        impl<const N: usize> IntoArray for [Option<$t>; N] {
            fn into_array(self) -> ArrayRef {
                self.to_vec().into_array()
            }
        }
    )*};
}

into_array_other!(BooleanArray; bool);
into_array_other!(StringArray; &str, String);

impl IntoArray for &[&str] {
    fn into_array(self) -> ArrayRef {
        self.to_vec().into_array()
    }
}
