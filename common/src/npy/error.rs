//! The error type of the `.npy` reader and writer.
//!
//! Every variant names the file and says what is wrong with it, so a user
//! who passed the wrong file sees which one and why without a debugger.

use std::path::PathBuf;

/// Anything that can go wrong reading or writing a `.npy` file.
#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    /// The file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// The file does not start with `\x93NUMPY`.
    #[error("{}: not a .npy file (bad magic: expected \\x93NUMPY)", path.display())]
    BadMagic {
        /// The file involved.
        path: PathBuf,
    },
    /// The format version is not 1.0, 2.0 or 3.0.
    #[error("{}: unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0, 3.0)", path.display())]
    UnsupportedVersion {
        /// The file involved.
        path: PathBuf,
        /// Major version byte.
        major: u8,
        /// Minor version byte.
        minor: u8,
    },
    /// The file ends before the part named by `what` is complete.
    #[error("{}: truncated: {what}", path.display())]
    Truncated {
        /// The file involved.
        path: PathBuf,
        /// Which part is cut short, with the byte counts.
        what: String,
    },
    /// The header dictionary could not be understood.
    #[error("{}: malformed header: {reason}", path.display())]
    BadHeader {
        /// The file involved.
        path: PathBuf,
        /// What the parser expected and found.
        reason: String,
    },
    /// The dtype is not one of f4, f8, i1, i2, i4, i8, u1, u2, u4, u8, b1.
    #[error("{}: unsupported dtype {descr:?} (supported: f4, f8, i1, i2, i4, i8, u1, u2, u4, u8, bool)", path.display())]
    UnsupportedDtype {
        /// The file involved.
        path: PathBuf,
        /// The `descr` entry as written in the header.
        descr: String,
    },
    /// The array is stored in Fortran (column-major) order.
    #[error("{}: Fortran-order arrays are not supported; save it with numpy.ascontiguousarray first", path.display())]
    FortranOrder {
        /// The file involved.
        path: PathBuf,
    },
    /// The shape's element count times the item size overflows or disagrees
    /// with the number of data bytes in the file.
    #[error("{}: shape {shape:?} × itemsize {itemsize} needs {expected} data bytes, but the file holds {actual}", path.display())]
    DataLength {
        /// The file involved.
        path: PathBuf,
        /// The declared shape.
        shape: Vec<usize>,
        /// Bytes per element.
        itemsize: usize,
        /// Bytes the shape asks for.
        expected: u128,
        /// Bytes actually present after the header.
        actual: usize,
    },
    /// A `u8` element does not fit in the `i64` the reader widens to.
    #[error("{}: element {index} = {value} does not fit in i64", path.display())]
    ValueOutOfRange {
        /// The file involved.
        path: PathBuf,
        /// Flat (C-order) index of the element.
        index: usize,
        /// The stored value.
        value: u64,
    },
    /// A write was asked for with a shape whose element count is not the data length.
    #[error("{}: shape {shape:?} has {expected} elements but {actual} values were given", path.display())]
    ShapeMismatch {
        /// The file that was to be written.
        path: PathBuf,
        /// The shape given.
        shape: Vec<usize>,
        /// Product of the shape.
        expected: u128,
        /// Number of values given.
        actual: usize,
    },
}
