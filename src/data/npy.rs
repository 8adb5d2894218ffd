//! Plain `.npy` input: one array per file, for researchers who keep `obs`, `bursts` / `jacobians`,
//! `inputs` and `outputs` as separate NumPy files (`netmatch compare --a-obs … --a-bursts …`), and the
//! array reader that the `.npz` members go through as well.
//!
//! The reader is written here rather than taken from `ndarray-npy` (which still writes): that crate
//! allocates whatever a header declares before it reads a byte of data, so a 1 kB file declaring 10¹²
//! elements aborted the process. Here the header is parsed first (a fixed Python-dict literal with three
//! keys; its own small parser, so no hostile nesting reaches a general literal parser), its element
//! count is computed with checked arithmetic and compared with the bytes that really follow, and only
//! then is memory taken — and the data are converted to f64 in 64 kB chunks, so an f32 array never
//! exists twice. float16, float32 and float64 in either byte order and C or Fortran order are read.

use std::io::Read;
use std::path::Path;

use ndarray::{Array2, ArrayD, Ix2, Ix3, IxDyn, ShapeBuilder};

use super::{LocalSource, Observations};
use crate::error::{Error, Result};

/// Largest `.npy` header accepted (numpy writes under 200 bytes; its own reader refuses 10 000 by default).
pub const MAX_HEADER_BYTES: usize = 1 << 16;

/// Element type of an array netmatch reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NpyDtype {
    /// IEEE half.
    F16,
    /// IEEE single.
    F32,
    /// IEEE double.
    F64,
}

impl NpyDtype {
    /// Bytes per element.
    pub fn width(self) -> usize {
        match self {
            NpyDtype::F16 => 2,
            NpyDtype::F32 => 4,
            NpyDtype::F64 => 8,
        }
    }
    /// numpy's name.
    pub fn name(self) -> &'static str {
        match self {
            NpyDtype::F16 => "float16",
            NpyDtype::F32 => "float32",
            NpyDtype::F64 => "float64",
        }
    }
}

/// A parsed and size-checked `.npy` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NpyHeader {
    /// Element type.
    pub dtype: NpyDtype,
    /// Big-endian data (`'>f8'`).
    pub big_endian: bool,
    /// Column-major data.
    pub fortran_order: bool,
    /// Declared shape.
    pub shape: Vec<usize>,
    /// Bytes from the start of the file to the first data byte.
    pub header_bytes: u64,
    /// Number of elements (the checked product of `shape`).
    pub elements: usize,
    /// Bytes of data the header promises (checked `elements × width`).
    pub data_bytes: u64,
}

impl NpyHeader {
    /// The shape in numpy's notation, e.g. `(2000, 50000, 4)`.
    pub fn shape_text(&self) -> String {
        shape_text(&self.shape)
    }
}

/// A shape in numpy's notation.
pub fn shape_text(shape: &[usize]) -> String {
    match shape {
        [] => "()".into(),
        [n] => format!("({n},)"),
        s => format!("({})", s.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")),
    }
}

/// Reads and checks the header of an `.npy` stream, leaving `r` at the first data byte. Errors are
/// plain sentences; callers add the file (and member) they concern.
pub fn read_header(r: &mut impl Read) -> std::result::Result<NpyHeader, String> {
    let mut pre = [0u8; 8];
    read_exact_or(r, &mut pre, "the file ends inside the .npy preamble")?;
    if &pre[..6] != b"\x93NUMPY" {
        return Err("not an .npy array (the \\x93NUMPY magic is missing)".into());
    }
    let (major, minor) = (pre[6], pre[7]);
    let len_bytes = match major {
        1 => 2,
        2 | 3 => 4,
        _ => return Err(format!("unsupported .npy format version {major}.{minor} (numpy writes 1.0, 2.0 or 3.0)")),
    };
    let mut lb = [0u8; 4];
    read_exact_or(r, &mut lb[..len_bytes], "the file ends inside the .npy preamble")?;
    let hlen = u32::from_le_bytes(lb) as usize;
    if hlen > MAX_HEADER_BYTES {
        return Err(format!("the .npy header declares {hlen} bytes, more than the {MAX_HEADER_BYTES} accepted"));
    }
    let mut text = vec![0u8; hlen];
    read_exact_or(r, &mut text, "the file ends inside the .npy header")?;
    let text = std::str::from_utf8(&text).map_err(|_| "the .npy header is not text".to_string())?;
    let dict = parse_header_dict(text)?;
    let descr = dict.descr.ok_or("the .npy header has no 'descr'")?;
    let fortran_order = dict.fortran_order.ok_or("the .npy header has no 'fortran_order'")?;
    let shape = dict.shape.ok_or("the .npy header has no 'shape'")?;
    let (dtype, big_endian) = parse_descr(&descr)?;
    let elements = shape
        .iter()
        .try_fold(1usize, |a, &b| a.checked_mul(b))
        .ok_or_else(|| format!("shape {} has more elements than this machine can address", shape_text(&shape)))?;
    let data_bytes = (elements as u64)
        .checked_mul(dtype.width() as u64)
        .ok_or_else(|| format!("shape {} has more bytes than this machine can address", shape_text(&shape)))?;
    let header_bytes = (6 + 2 + len_bytes + hlen) as u64;
    Ok(NpyHeader { dtype, big_endian, fortran_order, shape, header_bytes, elements, data_bytes })
}

/// Checks that exactly `available` bytes follow the header (the rest of a file or zip member), so a
/// header that promises more data than the file holds is refused before anything is allocated.
pub fn check_available(h: &NpyHeader, available: u64) -> std::result::Result<(), String> {
    use std::cmp::Ordering;
    match available.cmp(&h.data_bytes) {
        Ordering::Equal => Ok(()),
        Ordering::Less => Err(format!(
            "truncated: shape {} of {} needs {} data bytes but only {available} follow the header",
            h.shape_text(),
            h.dtype.name(),
            h.data_bytes
        )),
        Ordering::Greater => Err(format!(
            "corrupt: {available} bytes follow the header but shape {} of {} holds {}",
            h.shape_text(),
            h.dtype.name(),
            h.data_bytes
        )),
    }
}

/// Reads the data after [`read_header`] as f64, in chunks (the only allocation is the result), and
/// then reads to the end of the stream — which is where a zip member's checksum is verified.
pub fn read_data(r: &mut impl Read, h: &NpyHeader) -> std::result::Result<ArrayD<f64>, String> {
    const CHUNK: usize = 1 << 16;
    let width = h.dtype.width();
    let mut out: Vec<f64> = Vec::new();
    out.try_reserve_exact(h.elements)
        .map_err(|_| format!("cannot allocate {} elements for shape {}", h.elements, h.shape_text()))?;
    let mut buf = vec![0u8; CHUNK.min(h.data_bytes as usize).max(width)];
    let mut left = h.data_bytes as usize;
    while left > 0 {
        let take = left.min(CHUNK);
        let chunk = &mut buf[..take];
        r.read_exact(chunk).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => format!(
                "truncated: the data of shape {} end after {} of {} bytes",
                h.shape_text(),
                h.data_bytes as usize - left,
                h.data_bytes
            ),
            _ => format!("corrupt data: {e}"),
        })?;
        let be = h.big_endian;
        match h.dtype {
            NpyDtype::F64 => out.extend(chunk.chunks_exact(8).map(|c| {
                let b: [u8; 8] = c.try_into().unwrap_or_default();
                if be { f64::from_be_bytes(b) } else { f64::from_le_bytes(b) }
            })),
            NpyDtype::F32 => out.extend(chunk.chunks_exact(4).map(|c| {
                let b: [u8; 4] = c.try_into().unwrap_or_default();
                f64::from(if be { f32::from_be_bytes(b) } else { f32::from_le_bytes(b) })
            })),
            NpyDtype::F16 => out.extend(chunk.chunks_exact(2).map(|c| {
                let b = [c[0], c[1]];
                let bits = if be { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) };
                f64::from(half::f16::from_bits(bits))
            })),
        }
        left -= take;
    }
    // The end of the stream: a zip member verifies its CRC here; anything more is not this array.
    let mut probe = [0u8; 1];
    loop {
        match r.read(&mut probe) {
            Ok(0) => break,
            Ok(_) => return Err(format!("corrupt: bytes follow the data of shape {}", h.shape_text())),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("corrupt data: {e}")),
        }
    }
    let dim = IxDyn(&h.shape);
    let a = if h.fortran_order {
        ArrayD::from_shape_vec(dim.f(), out).map(|a| a.as_standard_layout().into_owned())
    } else {
        ArrayD::from_shape_vec(dim, out)
    };
    a.map_err(|e| format!("shape {} does not match its data: {e}", h.shape_text()))
}

/// Reads one array from a stream of which `available` bytes remain (header included).
pub fn read_from(mut r: impl Read, available: u64) -> std::result::Result<ArrayD<f64>, String> {
    let h = read_header(&mut r)?;
    check_available(&h, available.saturating_sub(h.header_bytes))?;
    read_data(&mut r, &h)
}

fn read_exact_or(r: &mut impl Read, buf: &mut [u8], eof: &str) -> std::result::Result<(), String> {
    r.read_exact(buf).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => eof.to_string(),
        _ => format!("read failed: {e}"),
    })
}

fn parse_descr(descr: &str) -> std::result::Result<(NpyDtype, bool), String> {
    let (order, kind) = match descr.as_bytes().first() {
        Some(b'<' | b'=' | b'|') => (false, &descr[1..]),
        Some(b'>') => (true, &descr[1..]),
        _ => (false, descr),
    };
    let dtype = match kind {
        "f2" | "e" => NpyDtype::F16,
        "f4" | "f" => NpyDtype::F32,
        "f8" | "d" => NpyDtype::F64,
        _ => {
            return Err(format!(
                "dtype '{descr}' is not a float: netmatch reads float16, float32 and float64 (convert with \
                 .astype(np.float32))"
            ));
        }
    };
    Ok((dtype, order))
}

#[derive(Default)]
struct HeaderDict {
    descr: Option<String>,
    fortran_order: Option<bool>,
    shape: Option<Vec<usize>>,
}

/// Parses numpy's header literal `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`: string
/// keys; a string, a bool or a flat tuple of non-negative integers as values. Anything else (a structured
/// dtype's list, nesting) is refused with what was found.
fn parse_header_dict(text: &str) -> std::result::Result<HeaderDict, String> {
    struct P<'a> {
        s: &'a [u8],
        i: usize,
    }
    impl P<'_> {
        fn ws(&mut self) {
            while self.i < self.s.len() && (self.s[self.i] as char).is_ascii_whitespace() {
                self.i += 1;
            }
        }
        fn eat(&mut self, c: u8) -> bool {
            self.ws();
            if self.s.get(self.i) == Some(&c) {
                self.i += 1;
                true
            } else {
                false
            }
        }
        fn string(&mut self) -> Option<String> {
            self.ws();
            let q = *self.s.get(self.i)?;
            if q != b'\'' && q != b'"' {
                return None;
            }
            let start = self.i + 1;
            let end = start + self.s[start..].iter().position(|&c| c == q)?;
            self.i = end + 1;
            String::from_utf8(self.s[start..end].to_vec()).ok()
        }
        fn word(&mut self) -> &str {
            self.ws();
            let start = self.i;
            while self.i < self.s.len() && (self.s[self.i] as char).is_ascii_alphanumeric() {
                self.i += 1;
            }
            std::str::from_utf8(&self.s[start..self.i]).unwrap_or("")
        }
    }
    let bad = |what: &str| format!("the .npy header is not numpy's dictionary ({what}): {}", text.trim_end());
    let mut p = P { s: text.as_bytes(), i: 0 };
    let mut d = HeaderDict::default();
    if !p.eat(b'{') {
        return Err(bad("no opening brace"));
    }
    loop {
        if p.eat(b'}') {
            break;
        }
        let key = p.string().ok_or_else(|| bad("expected a quoted key"))?;
        if !p.eat(b':') {
            return Err(bad("expected ':'"));
        }
        match key.as_str() {
            "descr" => {
                let v = p.string().ok_or_else(|| {
                    "structured or non-string dtype in the .npy header: netmatch reads plain float arrays".to_string()
                })?;
                d.descr = Some(v);
            }
            "fortran_order" => {
                d.fortran_order = Some(match p.word() {
                    "True" => true,
                    "False" => false,
                    w => return Err(bad(&format!("fortran_order is `{w}`"))),
                });
            }
            "shape" => {
                if !p.eat(b'(') {
                    return Err(bad("shape is not a tuple"));
                }
                let mut shape = Vec::new();
                loop {
                    if p.eat(b')') {
                        break;
                    }
                    let w = p.word().to_string();
                    let w = w.strip_suffix('L').unwrap_or(&w);
                    let n: usize = w.parse().map_err(|_| bad(&format!("shape entry `{w}` is not a size")))?;
                    if shape.len() >= 32 {
                        return Err(bad("more than 32 dimensions"));
                    }
                    shape.push(n);
                    if !p.eat(b',') {
                        if p.eat(b')') {
                            break;
                        }
                        return Err(bad("expected ',' or ')' in shape"));
                    }
                }
                d.shape = Some(shape);
            }
            other => return Err(bad(&format!("unknown key '{other}'"))),
        }
        if !p.eat(b',') {
            if p.eat(b'}') {
                break;
            }
            return Err(bad("expected ',' or '}'"));
        }
    }
    Ok(d)
}

/// Opens `path` for reading if it is a regular file, with its length; a directory, a device such as
/// `/dev/zero` or a missing file is an error that says so.
pub(crate) fn open_regular(path: &Path) -> Result<(std::fs::File, u64)> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return Err(Error::format(path, "is a directory, not a file"));
    }
    if !meta.is_file() {
        return Err(Error::format(path, "is not a regular file (a device, pipe or socket)"));
    }
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    Ok((f, meta.len()))
}

/// Reads one float `.npy` file as f64.
pub fn read(path: &Path) -> Result<ArrayD<f64>> {
    let (f, len) = open_regular(path)?;
    read_from(std::io::BufReader::new(f), len).map_err(|m| Error::format(path, m))
}

/// Reads only the header of an `.npy` file and checks it against the file's size.
pub fn read_header_of(path: &Path) -> Result<NpyHeader> {
    let (f, len) = open_regular(path)?;
    let mut r = std::io::BufReader::new(f);
    let h = read_header(&mut r).map_err(|m| Error::format(path, m))?;
    check_available(&h, len.saturating_sub(h.header_bytes)).map_err(|m| Error::format(path, m))?;
    Ok(h)
}

/// A 1-D array as an N×1 matrix, a 2-D array as is; anything else is a format error naming `key`.
pub fn as_matrix(a: ArrayD<f64>, path: &Path, key: &str) -> Result<Array2<f64>> {
    let shape = a.shape().to_vec();
    let bad = || Error::format(path, format!("array `{key}` must be 1-D or 2-D (N×…), got shape {shape:?}"));
    match shape.len() {
        1 => a.into_shape_with_order((shape[0], 1)).map_err(|_| bad()),
        2 => a.into_dimensionality::<Ix2>().map_err(|_| bad()),
        _ => Err(bad()),
    }
}

/// The `.npy` files of one network.
#[derive(Clone, Debug, Default)]
pub struct NpyFiles<'a> {
    /// N×D observations.
    pub obs: Option<&'a Path>,
    /// N×M×D bursts.
    pub bursts: Option<&'a Path>,
    /// N×D×d Jacobians.
    pub jacobians: Option<&'a Path>,
    /// N×d inputs.
    pub inputs: Option<&'a Path>,
    /// N×P outputs.
    pub outputs: Option<&'a Path>,
}

/// Reads and validates one network's observations from separate `.npy` files. Every header is read
/// and the declared shapes are checked against each other before any data is.
pub fn read_observations(f: &NpyFiles, sigma: f64) -> Result<Observations> {
    let obs_path = f.obs.ok_or_else(|| Error::param("obs", "the observations file (…-obs X.npy) is required"))?;
    let local = match (f.bursts, f.jacobians) {
        (Some(b), None) => ("bursts", b),
        (None, Some(j)) => ("jacobians", j),
        (Some(_), Some(_)) => return Err(Error::param("bursts", "give either bursts or jacobians, not both")),
        (None, None) => return Err(Error::param("bursts", "give the bursts (N×M×D) or the Jacobians (N×D×d)")),
    };
    let mut declared = vec![("obs", read_header_of(obs_path)?.shape, obs_path)];
    declared.push((local.0, read_header_of(local.1)?.shape, local.1));
    for (key, p) in [("inputs", f.inputs), ("outputs", f.outputs)] {
        if let Some(p) = p {
            declared.push((key, read_header_of(p)?.shape, p));
        }
    }
    let shapes: Vec<(&str, &[usize])> = declared.iter().map(|(k, s, _)| (*k, s.as_slice())).collect();
    if let Err((key, m)) = super::check_declared(&shapes) {
        let p = declared.iter().find(|d| d.0 == key).map_or(obs_path, |d| d.2);
        return Err(Error::format(p, m));
    }
    let obs = as_matrix(read(obs_path)?, obs_path, "obs")?;
    let three = |p: &Path, key: &str, what: &str| -> Result<ndarray::Array3<f64>> {
        let a = read(p)?;
        let shape = a.shape().to_vec();
        a.into_dimensionality::<Ix3>()
            .map_err(|_| Error::format(p, format!("array `{key}` must be {what}, got shape {shape:?}")))
    };
    let local = match local.0 {
        "bursts" => LocalSource::Bursts(three(local.1, "bursts", "3-D (N×M×D)")?),
        _ => LocalSource::Jacobians(three(local.1, "jacobians", "3-D (N×D×d)")?),
    };
    let inputs = f.inputs.map(|p| read(p).and_then(|a| as_matrix(a, p, "inputs"))).transpose()?;
    let data = Observations::new(obs, local, sigma, inputs)?;
    match f.outputs {
        Some(p) => data.with_outputs(as_matrix(read(p)?, p, "outputs")?),
        None => Ok(data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
        crate::testing::npy_bytes(descr, false, shape, data)
    }

    #[test]
    fn reads_what_ndarray_npy_writes_in_both_orders() {
        let a = ndarray::Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64 * 0.5 - 1.0);
        for fortran in [false, true] {
            let mut bytes = Vec::new();
            // `.reversed_axes()` of a standard-layout transpose is `a` in column-major memory.
            let src = if fortran { a.t().as_standard_layout().into_owned().reversed_axes() } else { a.clone() };
            assert_eq!(src.t().is_standard_layout(), fortran);
            ndarray_npy::WriteNpyExt::write_npy(&src, &mut bytes).unwrap();
            let back = read_from(&bytes[..], bytes.len() as u64).unwrap();
            assert_eq!(back.into_dimensionality::<Ix2>().unwrap(), a);
        }
        let b = a.mapv(|v| v as f32);
        let mut bytes = Vec::new();
        ndarray_npy::WriteNpyExt::write_npy(&b, &mut bytes).unwrap();
        assert_eq!(read_from(&bytes[..], bytes.len() as u64).unwrap().into_dimensionality::<Ix2>().unwrap(), a);
    }

    #[test]
    fn big_endian_half_and_fortran_are_converted() {
        let data: Vec<u8> = [1.5f64, -2.0].iter().flat_map(|v| v.to_be_bytes()).collect();
        let a = read_from(&npy(">f8", "(2,)", &data)[..], 1 << 20).unwrap_err();
        assert!(a.contains("corrupt"), "{a}");
        let bytes = npy(">f8", "(2,)", &data);
        let a = read_from(&bytes[..], bytes.len() as u64).unwrap();
        assert_eq!(a.as_slice().unwrap(), &[1.5, -2.0]);
        let data: Vec<u8> = [0x3c00u16, 0xc000].iter().flat_map(|v| v.to_le_bytes()).collect();
        let bytes = npy("<f2", "(2,)", &data);
        assert_eq!(read_from(&bytes[..], bytes.len() as u64).unwrap().as_slice().unwrap(), &[1.0, -2.0]);
        let data: Vec<u8> = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let bytes = crate::testing::npy_bytes("<f8", true, "(2, 3)", &data);
        let a = read_from(&bytes[..], bytes.len() as u64).unwrap();
        assert_eq!(a.as_slice().unwrap(), &[1.0, 3.0, 5.0, 2.0, 4.0, 6.0]);
    }

    #[test]
    fn hostile_headers_are_refused_before_allocating() {
        let cases: [(&str, &str, &str); 7] = [
            ("<f8", "(1000000, 1000000)", "truncated"),
            ("<f8", "(18446744073709551615, 2)", "address"),
            ("<i8", "(2,)", "not a float"),
            ("<f8", "(2, 'a')", "not a size"),
            ("|O", "(2,)", "not a float"),
            ("<c16", "(2,)", "not a float"),
            ("<f8", "[2]", "not a tuple"),
        ];
        for (descr, shape, want) in cases {
            let bytes = npy(descr, shape, &[0u8; 16]);
            let e = read_from(&bytes[..], bytes.len() as u64).unwrap_err();
            assert!(e.contains(want), "{descr} {shape}: {e}");
        }
        let e = read_from(&b"\x93NUMPY\x01\x00\xff\xff"[..], 10).unwrap_err();
        assert!(e.contains("ends inside"), "{e}");
        let e = read_from(&b"PK\x03\x04"[..], 4).unwrap_err();
        assert!(e.contains("ends inside") || e.contains("magic"), "{e}");
    }
}
