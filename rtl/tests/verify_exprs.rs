//! Verifier, expression typing: one test per rule, on a combinational module with a few
//! inputs of assorted widths.

use tachyon_rtl::{verify, CmpOp, Expr, Module, SignalId, VerifyError};

/// Inputs `a: i8`, `b: u4`, `s: u1`, `t: u2`, and an output `y` of `(w, signed)` driven by the
/// expression `mk` builds from `[a, b, s, t]`.
fn module(w: u32, signed: bool, mk: impl Fn(&[SignalId]) -> Expr) -> Module {
    let mut m = Module::new("t");
    let ins = vec![
        m.add_input("a", 8, true),
        m.add_input("b", 4, false),
        m.add_input("s", 1, false),
        m.add_input("t", 2, false),
    ];
    let y = m.add_output("y", w, signed);
    m.assign(y, mk(&ins));
    m
}

fn err(m: &Module) -> VerifyError {
    let e = verify(m).expect_err("module should be rejected");
    assert!(e.to_string().contains("`y`"), "message names the destination: {e}");
    e
}

#[test]
fn constants_fit_the_destination() {
    assert!(verify(&module(8, true, |_| Expr::Const(-128))).is_ok());
    assert!(verify(&module(8, false, |_| Expr::Const(255))).is_ok());
    assert!(verify(&module(128, false, |_| Expr::Const(i128::MAX))).is_ok());
    assert!(verify(&module(128, true, |_| Expr::Const(i128::MIN))).is_ok());
    for (w, s, v) in [(8, true, 128), (8, true, -129), (8, false, 256), (8, false, -1), (128, false, -1), (1, true, 1)]
    {
        let e = err(&module(w, s, |_| Expr::Const(v)));
        assert!(matches!(e, VerifyError::ConstOutOfRange { value, .. } if value == v), "{e}");
    }
}

#[test]
fn table_entries_fit_the_destination() {
    let e = err(&module(4, false, |i| Expr::Table { index: i[3], entries: vec![0, 15, 16, 3] }));
    assert!(matches!(e, VerifyError::TableEntryOutOfRange { entry: 2, value: 16, .. }), "{e}");
    let e = err(&module(4, true, |i| Expr::Table { index: i[3], entries: vec![-8, 7, -9, 0] }));
    assert!(matches!(e, VerifyError::TableEntryOutOfRange { entry: 2, .. }), "{e}");
}

#[test]
fn table_has_one_entry_per_index_value() {
    assert!(verify(&module(4, false, |i| Expr::Table { index: i[3], entries: vec![0, 1, 2, 3] })).is_ok());
    let e = err(&module(4, false, |i| Expr::Table { index: i[3], entries: vec![0, 1, 2] }));
    assert!(matches!(e, VerifyError::TableSize { len: 3, expected: 4, .. }), "{e}");
}

#[test]
fn table_index_is_at_most_16_bits() {
    let mut m = Module::new("t");
    let ix = m.add_input("ix", 17, false);
    let y = m.add_output("y", 1, false);
    m.assign(y, Expr::Table { index: ix, entries: vec![] });
    let e = err(&m);
    assert!(matches!(e, VerifyError::TableIndexTooWide { width: 17, .. }), "{e}");
}

#[test]
fn slices_stay_in_bounds() {
    assert!(verify(&module(3, false, |i| Expr::Slice { src: i[0], lo: 5 })).is_ok());
    let e = err(&module(3, false, |i| Expr::Slice { src: i[0], lo: 6 }));
    assert!(matches!(e, VerifyError::SliceOutOfBounds { hi: 8, lo: 6, width: 8, .. }), "{e}");
    let e = err(&module(3, false, |i| Expr::Slice { src: i[0], lo: u32::MAX }));
    assert!(matches!(e, VerifyError::SliceOutOfBounds { .. }), "{e}");
}

#[test]
fn concat_widths_sum_to_the_destination() {
    assert!(verify(&module(13, false, |i| Expr::Concat(vec![i[0], i[1], i[2]]))).is_ok());
    let e = err(&module(12, false, |i| Expr::Concat(vec![i[0], i[1], i[2]])));
    assert!(matches!(e, VerifyError::ConcatWidth { sum: 13, width: 12, .. }), "{e}");
    let e = err(&module(1, false, |_| Expr::Concat(vec![])));
    assert!(matches!(e, VerifyError::ConcatWidth { sum: 0, .. }), "{e}");
}

#[test]
fn mux_select_is_one_bit() {
    assert!(verify(&module(8, true, |i| Expr::Mux { sel: i[2], t: i[0], f: i[1] })).is_ok());
    let e = err(&module(8, true, |i| Expr::Mux { sel: i[3], t: i[0], f: i[1] }));
    assert!(matches!(e, VerifyError::MuxSelWidth { width: 2, .. }) && e.to_string().contains("`t`"), "{e}");
}

#[test]
fn comparison_result_is_one_bit() {
    assert!(verify(&module(1, false, |i| Expr::Cmp(CmpOp::Lt, i[0], i[1]))).is_ok());
    let e = err(&module(2, false, |i| Expr::Cmp(CmpOp::Lt, i[0], i[1])));
    assert!(matches!(e, VerifyError::CmpWidth { width: 2, .. }), "{e}");
}

#[test]
fn bitwise_operands_have_the_destination_width() {
    assert!(verify(&module(4, true, |i| Expr::And(i[1], i[1]))).is_ok());
    for mk in [
        (|i: &[SignalId]| Expr::And(i[0], i[1])) as fn(&[SignalId]) -> Expr,
        |i| Expr::Or(i[1], i[0]),
        |i| Expr::Xor(i[0], i[1]),
        |i| Expr::Not(i[0]),
    ] {
        let e = err(&module(4, false, mk));
        assert!(matches!(e, VerifyError::BitwiseWidth { operand_width: 8, width: 4, .. }), "{e}");
        assert!(e.to_string().contains("`a`"), "{e}");
    }
}
