//! The crate's one error type. Every fallible public function returns [`Result`]; messages name the
//! offending input and its sizes so that a user can fix the call without reading the source.

use std::path::PathBuf;

/// Everything that can go wrong in netmatch. Marked non-exhaustive: later stages add variants.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A file was read but its content is not what netmatch expects (missing key, wrong dtype, ...).
    #[error("{path}: {message}")]
    Format {
        /// The file involved.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Input arrays disagree in shape, or are too small for the requested computation.
    #[error("shape error: {0}")]
    Shape(String),
    /// A NaN or infinite value in an input array.
    #[error("non-finite value in `{array}` at flat index {index} (value {value})")]
    NonFinite {
        /// Name of the array.
        array: String,
        /// Flat (row-major) index of the first offending entry.
        index: usize,
        /// The value found.
        value: f64,
    },
    /// A parameter outside its valid range.
    #[error("invalid parameter `{name}`: {message}")]
    Param {
        /// The parameter's name as the CLI spells it.
        name: &'static str,
        /// Why the value is rejected.
        message: String,
    },
    /// The local geometry is degenerate (e.g. a burst whose observations do not vary).
    #[error("degenerate geometry: {0}")]
    Degenerate(String),
    /// No usable GPU adapter, or the adapter lacks something netmatch needs.
    #[error("GPU unavailable: {0}")]
    NoGpu(String),
    /// A matrix does not fit the adapter's buffer limits.
    #[error("kernel matrix for N = {n} needs {needed} bytes ({what}), above the adapter limit of {limit} bytes")]
    TooLarge {
        /// Number of points.
        n: usize,
        /// Bytes the allocation needs.
        needed: u64,
        /// The limit it exceeds.
        limit: u64,
        /// Which allocation or limit is involved.
        what: &'static str,
    },
    /// Host memory could not be reserved for an allocation the input or the flags ask for.
    #[error(
        "cannot allocate {needed} bytes of host memory for {what} (N = {n}); a smaller N, --precision f16 or --storage sparse needs less"
    )]
    HostMemory {
        /// Number of points.
        n: usize,
        /// Bytes the allocation needs.
        needed: u64,
        /// What the allocation is for.
        what: &'static str,
    },
    /// A GPU operation failed (validation, out-of-memory, device lost, map failure).
    #[error("GPU error: {0}")]
    Gpu(String),
    /// An eigen-solve failed outright (not merely unconverged: that is reported in its info).
    #[error("eigensolver: {0}")]
    Eigen(String),
    /// The caller's observer asked to stop (e.g. Ctrl-C in Python); nothing was written.
    #[error("cancelled by the caller")]
    Cancelled,
    /// A demo network failed: a tensor operation, or training that did not reach its loss bound.
    #[error("network: {0}")]
    Network(String),
}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
    /// A format error for `path`.
    pub fn format(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Format { path: path.into(), message: message.into() }
    }
    /// A parameter error.
    pub fn param(name: &'static str, message: impl Into<String>) -> Self {
        Error::Param { name, message: message.into() }
    }
}
