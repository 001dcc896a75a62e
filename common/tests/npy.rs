//! `.npy` reading and writing: round trips through our own writer, files
//! written by real NumPy (every supported dtype, both byte orders, format
//! versions 1.0, 2.0 and 3.0) when Python with NumPy is available, and every
//! kind of broken file.

/// Prints a skip notice straight to the terminal's stderr (the harness captures `println!`).
macro_rules! skip_note {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

use std::path::{Path, PathBuf};
use std::process::Command;

use tachyon_common::npy::{parse_npy, read_npy, write_npy_f32, write_npy_f64, write_npy_i64, NpyData, NpyError};

/// A Python with NumPy: the exporter's virtualenv (scripts/python-env.sh, which CI makes) when
/// present, else `python3`.
fn python() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    if venv.is_file() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

fn dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("npy").join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn round_trips() {
    let d = dir("round_trip");
    let f32s = [1.5f32, -0.0, f32::MAX, f32::MIN_POSITIVE, f32::INFINITY, 3.25];
    write_npy_f32(d.join("a.npy"), &[2, 3], &f32s).unwrap();
    let a = read_npy(d.join("a.npy")).unwrap();
    assert_eq!((a.shape.clone(), a.data.clone()), (vec![2, 3], NpyData::F32(f32s.to_vec())));
    assert_eq!(a.to_f64()[0], 1.5);

    let f64s = [std::f64::consts::PI, -1e300, 0.1];
    write_npy_f64(d.join("b.npy"), &[3], &f64s).unwrap();
    assert_eq!(read_npy(d.join("b.npy")).unwrap().data, NpyData::F64(f64s.to_vec()));

    let i64s = [i64::MIN, -1, 0, 1, i64::MAX, 42];
    write_npy_i64(d.join("c.npy"), &[1, 2, 3], &i64s).unwrap();
    let c = read_npy(d.join("c.npy")).unwrap();
    assert_eq!((c.shape, c.data), (vec![1, 2, 3], NpyData::I64(i64s.to_vec())));

    // 0-d and empty arrays.
    write_npy_i64(d.join("s.npy"), &[], &[7]).unwrap();
    assert_eq!(read_npy(d.join("s.npy")).unwrap().shape, Vec::<usize>::new());
    write_npy_f32(d.join("e.npy"), &[0, 5], &[]).unwrap();
    assert!(read_npy(d.join("e.npy")).unwrap().is_empty());
}

#[test]
fn write_rejects_shape_mismatch() {
    let d = dir("mismatch");
    let err = write_npy_i64(d.join("x.npy"), &[2, 2], &[1, 2, 3]).unwrap_err();
    assert!(matches!(err, NpyError::ShapeMismatch { expected: 4, actual: 3, .. }), "{err}");
    assert!(!d.join("x.npy").exists());
}

/// A minimal v1.0 file with the given header dictionary and data bytes.
fn npy_with_dict(dict: &str, payload: &[u8]) -> Vec<u8> {
    let pad = (64 - (10 + dict.len() + 1) % 64) % 64;
    let header = format!("{dict}{}\n", " ".repeat(pad));
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend_from_slice(&(header.len() as u16).to_le_bytes());
    b.extend_from_slice(header.as_bytes());
    b.extend_from_slice(payload);
    b
}

/// A minimal v1.0 file for `descr` and `shape` (Python tuple text) with `payload` as data.
fn npy_bytes(descr: &str, fortran: bool, shape: &str, payload: &[u8]) -> Vec<u8> {
    let order = if fortran { "True" } else { "False" };
    npy_with_dict(&format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}"), payload)
}

fn parse(bytes: &[u8]) -> Result<tachyon_common::NpyArray, NpyError> {
    parse_npy(bytes, Path::new("bad.npy"))
}

#[test]
fn broken_files_give_clear_errors() {
    let good = npy_bytes("<i2", false, "(2,)", &[1, 0, 2, 0]);
    assert_eq!(parse(&good).unwrap().data, NpyData::I64(vec![1, 2]));

    let msg = |r: Result<_, NpyError>| r.unwrap_err().to_string();
    assert!(msg(parse(b"PK\x03\x04 not numpy")).contains("bad magic"));
    assert!(msg(parse(b"\x93NUMPY")).contains("truncated"));
    let mut v4 = good.clone();
    v4[6] = 4;
    assert!(msg(parse(&v4)).contains("unsupported .npy format version 4.0"));
    assert!(msg(parse(&good[..12])).contains("header declares"));
    let short = msg(parse(&good[..good.len() - 1]));
    assert!(short.contains("truncated") && short.contains("needs 4 data bytes"), "{short}");
    let mut long = good.clone();
    long.push(0);
    assert!(msg(parse(&long)).contains("needs 4 data bytes, but the file holds 5"));
    assert!(msg(parse(&npy_bytes("<c16", false, "(1,)", &[0; 16]))).contains("unsupported dtype \"<c16\""));
    assert!(msg(parse(&npy_bytes("<U4", false, "(1,)", &[0; 16]))).contains("unsupported dtype"));
    assert!(msg(parse(&npy_bytes("<i2", true, "(2,)", &[0; 4]))).contains("Fortran-order"));
    assert!(msg(parse(&npy_bytes("<i2", false, "(2", &[0; 4]))).contains("malformed header"));
    let big = msg(parse(&npy_bytes("|u1", false, &format!("({}, {})", u64::MAX, u64::MAX), &[])));
    assert!(big.contains("truncated") && big.contains("only 0 are present"), "{big}");
    let huge = msg(parse(&npy_bytes("<f8", false, &format!("({0}, {0}, {0})", u64::MAX), &[0; 8])));
    assert!(huge.contains("more than 2^128 bytes"), "{huge}");
    let mut p = npy_bytes("<u8", false, "(1,)", &u64::MAX.to_le_bytes());
    assert!(msg(parse(&p)).contains("does not fit in i64"));
    p.truncate(0);
    assert!(msg(parse(&p)).contains("bad magic"));
    let err = read_npy("/nonexistent/x.npy").unwrap_err().to_string();
    assert!(err.starts_with("/nonexistent/x.npy:"), "{err}");
}

#[test]
fn structured_dtypes_are_unsupported() {
    let b = npy_with_dict("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,), }", &[0; 4]);
    let err = parse(&b).unwrap_err().to_string();
    assert!(err.contains("unsupported dtype \"[('a', '<i4')]\""), "{err}");
}

const NUMPY_SCRIPT: &str = r#"
import sys, numpy as np
from numpy.lib import format as fmt
d = sys.argv[1]
vals = [0, 1, -1, 5, -128, 127, 100, -100]
for dt in ['i1', 'i2', 'i4', 'i8']:
    for bo in '<>':
        np.save(f'{d}/{dt}{"le" if bo == "<" else "be"}.npy', np.array(vals, dtype=bo + dt).reshape(2, 4))
for dt in ['u1', 'u2', 'u4', 'u8']:
    for bo in '<>':
        np.save(f'{d}/{dt}{"le" if bo == "<" else "be"}.npy', np.array([0, 1, 200, 255], dtype=bo + dt))
np.save(f'{d}/u8max.npy', np.array([2**63 - 1], dtype='<u8'))
for dt in ['f4', 'f8']:
    for bo in '<>':
        np.save(f'{d}/{dt}{"le" if bo == "<" else "be"}.npy', np.array([[0.5, -1.25, 3e10]], dtype=bo + dt))
np.save(f'{d}/bool.npy', np.array([True, False, True]))
np.save(f'{d}/scalar.npy', np.float32(2.5))
np.save(f'{d}/fortran.npy', np.asfortranarray(np.arange(6, dtype='<i4').reshape(2, 3)))
np.save(f'{d}/c16.npy', np.array([1j]))
for v in [(2, 0), (3, 0)]:
    with open(f'{d}/v{v[0]}.npy', 'wb') as f:
        fmt.write_array(f, np.arange(6, dtype='<i2').reshape(3, 2), version=v)
"#;

#[test]
fn reads_files_written_by_numpy() {
    let have_numpy = Command::new(python()).args(["-c", "import numpy"]).output().is_ok_and(|o| o.status.success());
    if !have_numpy {
        skip_note!("skipped: numpy not available");
        return;
    }
    let d = dir("numpy");
    let out = Command::new(python()).args(["-c", NUMPY_SCRIPT]).arg(&d).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let read = |name: &str| read_npy(d.join(format!("{name}.npy"))).unwrap_or_else(|e| panic!("{e}"));

    let signed = vec![0, 1, -1, 5, -128, 127, 100, -100];
    for dt in ["i1", "i2", "i4", "i8"] {
        for bo in ["le", "be"] {
            let a = read(&format!("{dt}{bo}"));
            assert_eq!((a.shape, a.data), (vec![2, 4], NpyData::I64(signed.clone())), "{dt}{bo}");
        }
    }
    for dt in ["u1", "u2", "u4", "u8"] {
        for bo in ["le", "be"] {
            assert_eq!(read(&format!("{dt}{bo}")).data, NpyData::I64(vec![0, 1, 200, 255]), "{dt}{bo}");
        }
    }
    assert_eq!(read("u8max").data, NpyData::I64(vec![i64::MAX]));
    for bo in ["le", "be"] {
        assert_eq!(read(&format!("f4{bo}")).data, NpyData::F32(vec![0.5, -1.25, 3e10]));
        let a = read(&format!("f8{bo}"));
        assert_eq!((a.shape, a.data), (vec![1, 3], NpyData::F64(vec![0.5, -1.25, 3e10])));
    }
    assert_eq!(read("bool").data, NpyData::I64(vec![1, 0, 1]));
    let s = read("scalar");
    assert_eq!((s.shape, s.data), (vec![], NpyData::F32(vec![2.5])));
    for v in ["v2", "v3"] {
        let a = read(v);
        assert_eq!((a.shape, a.data), (vec![3, 2], NpyData::I64((0..6).collect())), "{v}");
    }
    assert!(matches!(read_npy(d.join("fortran.npy")), Err(NpyError::FortranOrder { .. })));
    assert!(matches!(read_npy(d.join("c16.npy")), Err(NpyError::UnsupportedDtype { .. })));
}

#[test]
fn numpy_reads_our_files() {
    let have_numpy = Command::new(python()).args(["-c", "import numpy"]).output().is_ok_and(|o| o.status.success());
    if !have_numpy {
        skip_note!("skipped: numpy not available");
        return;
    }
    let d = dir("to_numpy");
    write_npy_f32(d.join("f.npy"), &[2, 2], &[1.0, 2.5, -3.0, 0.125]).unwrap();
    write_npy_i64(d.join("i.npy"), &[3], &[i64::MIN, 0, i64::MAX]).unwrap();
    write_npy_f64(d.join("s.npy"), &[], &[0.5]).unwrap();
    let script = "import sys, numpy as np\n\
        d = sys.argv[1]\n\
        f = np.load(d + '/f.npy'); assert f.dtype == np.float32 and f.shape == (2, 2) and f.tolist() == [[1.0, 2.5], [-3.0, 0.125]], f\n\
        i = np.load(d + '/i.npy'); assert i.dtype == np.int64 and i.tolist() == [-2**63, 0, 2**63 - 1], i\n\
        s = np.load(d + '/s.npy'); assert s.shape == () and s == 0.5, s\n";
    let out = Command::new(python()).args(["-c", script]).arg(&d).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
