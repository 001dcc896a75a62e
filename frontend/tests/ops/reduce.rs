//! ReduceSum / ReduceMean / ReduceMax / ReduceMin with axes from the attribute or the input.

use super::*;
use tachyon_frontend::ReduceKind;

fn reduce(kind: ReduceKind, axes: Option<&[i64]>, keepdims: bool) -> Op {
    Op::Reduce { kind, axes: axes.map(<[i64]>::to_vec), keepdims, noop_with_empty_axes: false }
}

#[test]
fn keepdims_one_and_zero() {
    let x = iota(&[2, 3]); // [[1 2 3] [4 5 6]]
    check(&run(&reduce(ReduceKind::Sum, Some(&[1]), true), &[&x]), &[2, 1], &[6.0, 15.0]);
    check(&run(&reduce(ReduceKind::Sum, Some(&[1]), false), &[&x]), &[2], &[6.0, 15.0]);
    check(&run(&reduce(ReduceKind::Mean, Some(&[0]), false), &[&x]), &[3], &[2.5, 3.5, 4.5]);
    check(&run(&reduce(ReduceKind::Mean, Some(&[0]), true), &[&x]), &[1, 3], &[2.5, 3.5, 4.5]);
    check(&run(&reduce(ReduceKind::Max, Some(&[-1]), false), &[&x]), &[2], &[3.0, 6.0]);
    check(&run(&reduce(ReduceKind::Min, Some(&[-2]), true), &[&x]), &[1, 3], &[1.0, 2.0, 3.0]);
}

#[test]
fn no_axes_reduce_everything() {
    let x = iota(&[2, 3]);
    check(&run(&reduce(ReduceKind::Min, None, true), &[&x]), &[1, 1], &[1.0]);
    check(&run(&reduce(ReduceKind::Sum, None, false), &[&x]), &[], &[21.0]);
    check(&run(&reduce(ReduceKind::Max, Some(&[]), false), &[&x]), &[], &[6.0]);
    check(&run(&reduce(ReduceKind::Mean, None, false), &[&t(&[], &[4.0])]), &[], &[4.0]);
}

#[test]
fn several_axes_of_a_3d_tensor() {
    let x = iota(&[2, 2, 2]); // x[i][j][k] = 4i + 2j + k + 1
    check(&run(&reduce(ReduceKind::Sum, Some(&[0, 2]), false), &[&x]), &[2], &[14.0, 22.0]);
    check(&run(&reduce(ReduceKind::Max, Some(&[2, 0]), true), &[&x]), &[1, 2, 1], &[6.0, 8.0]);
}

#[test]
fn axes_from_the_second_input() {
    let x = iota(&[2, 3]);
    let sum = reduce(ReduceKind::Sum, None, true);
    check(&run(&sum, &[&x, &ints(&[0])]), &[1, 3], &[5.0, 7.0, 9.0]);
    check(&run(&reduce(ReduceKind::Mean, None, false), &[&x, &ints(&[-1])]), &[2], &[2.0, 5.0]);
    // An empty axes input reduces everything, or nothing with noop_with_empty_axes.
    check(&run(&sum, &[&x, &ints(&[])]), &[1, 1], &[21.0]);
    let noop = Op::Reduce { kind: ReduceKind::Sum, axes: None, keepdims: true, noop_with_empty_axes: true };
    check(&run(&noop, &[&x, &ints(&[])]), &[2, 3], &x.data);
    check(&run(&noop, &[&x]), &[2, 3], &x.data);
}

#[test]
fn bad_axes_are_refused() {
    let x = iota(&[2, 3]);
    assert!(fails(&reduce(ReduceKind::Sum, Some(&[2]), true), &[&x]).contains("axis 2 is out of range"));
    assert!(fails(&reduce(ReduceKind::Sum, Some(&[1, -1]), true), &[&x]).contains("given twice"));
    assert!(fails(&reduce(ReduceKind::Sum, Some(&[0]), true), &[&t(&[], &[1.0])]).contains("out of range"));
}

#[test]
fn global_pools() {
    let x = iota(&[1, 2, 2, 2]);
    check(&run(&Op::GlobalAveragePool, &[&x]), &[1, 2, 1, 1], &[2.5, 6.5]);
    check(&run(&Op::GlobalMaxPool, &[&x]), &[1, 2, 1, 1], &[4.0, 8.0]);
    check(&run(&Op::GlobalAveragePool, &[&iota(&[1, 2, 3])]), &[1, 2, 1], &[2.0, 5.0]);
}
