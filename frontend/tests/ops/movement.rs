//! Slice (negative steps, clamping, INT64 sentinels), Expand, Tile, Split and Pad.

use super::*;
use tachyon_frontend::PadMode;

const SLICE: Op = Op::Slice { starts: None, ends: None, axes: None };

/// `x[start:end:step]` on a 1-D tensor.
fn slice1(x: &Tensor, start: i64, end: i64, step: i64) -> Tensor {
    run(&SLICE, &[x, &ints(&[start]), &ints(&[end]), &ints(&[0]), &ints(&[step])])
}

#[test]
fn slice_positive_and_negative_steps() {
    let x = t(&[10], &(0..10).map(f64::from).collect::<Vec<_>>());
    check(&slice1(&x, 1, 8, 3), &[3], &[1.0, 4.0, 7.0]);
    check(&slice1(&x, -3, 100, 1), &[3], &[7.0, 8.0, 9.0]);
    check(&slice1(&x, 8, 1, -3), &[3], &[8.0, 5.0, 2.0]);
    check(&slice1(&x, -1, -4, -1), &[3], &[9.0, 8.0, 7.0]);
    // Reverse everything: start clamps to d−1, the INT64_MIN end to −1.
    check(&slice1(&x, -1, i64::MIN, -1), &[10], &(0..10).rev().map(f64::from).collect::<Vec<_>>());
    check(&slice1(&x, i64::MAX, -100, -2), &[5], &[9.0, 7.0, 5.0, 3.0, 1.0]);
    check(&slice1(&x, 2, i64::MAX, 4), &[2], &[2.0, 6.0]);
    check(&slice1(&x, i64::MIN, 2, 1), &[2], &[0.0, 1.0]);
    // Empty results.
    check(&slice1(&x, 5, 2, 1), &[0], &[]);
    check(&slice1(&x, 2, 5, -1), &[0], &[]);
    check(&slice1(&x, 12, 20, 1), &[0], &[]);
}

#[test]
fn slice_axes_in_any_order_and_default_steps() {
    let x = t(&[3, 4], &(0..12).map(f64::from).collect::<Vec<_>>());
    let y = run(&SLICE, &[&x, &ints(&[3, 0]), &ints(&[0, 3]), &ints(&[-1, 0]), &ints(&[-2, 2])]);
    check(&y, &[2, 2], &[3.0, 1.0, 11.0, 9.0]);
    // No axes, no steps: the leading axes, step 1.
    check(&run(&SLICE, &[&x, &ints(&[1]), &ints(&[3])]), &[2, 4], &x.data[4..12]);
    // Omitted axes but given steps.
    let y = &run_opt(&SLICE, &[Some(&x), Some(&ints(&[0, 1])), Some(&ints(&[3, 4])), None, Some(&ints(&[2, 2]))])[0];
    check(y, &[2, 2], &[1.0, 3.0, 9.0, 11.0]);
    // Opset < 10: bounds from attributes.
    let legacy = Op::Slice { starts: Some(vec![1]), ends: Some(vec![3]), axes: Some(vec![1]) };
    check(&run(&legacy, &[&x]), &[3, 2], &[1.0, 2.0, 5.0, 6.0, 9.0, 10.0]);
}

#[test]
fn slice_errors() {
    let x = iota(&[4]);
    assert!(fails(&SLICE, &[&x, &ints(&[0]), &ints(&[2]), &ints(&[0]), &ints(&[0])]).contains("step on axis 0 is 0"));
    assert!(fails(&SLICE, &[&x, &ints(&[0]), &ints(&[2]), &ints(&[1])]).contains("out of range"));
    assert!(fails(&SLICE, &[&x, &ints(&[0, 1]), &ints(&[2])]).contains("2 starts but 1 ends"));
    assert!(fails(&SLICE, &[&x, &ints(&[0])]).contains("'ends'"));
}

#[test]
fn expand_broadcasts_both_ways() {
    let x = t(&[3, 1], &[1.0, 2.0, 3.0]);
    let y = run(&Op::Expand, &[&x, &ints(&[2, 1, 4])]);
    let row = |v: f64| [v; 4];
    let one: Vec<f64> = [row(1.0), row(2.0), row(3.0)].concat();
    check(&y, &[2, 3, 4], &[one.clone(), one].concat());
    // A target dimension of 1 keeps the input's size.
    check(&run(&Op::Expand, &[&x, &ints(&[1])]), &[3, 1], &x.data);
    check(&run(&Op::Expand, &[&t(&[], &[7.0]), &ints(&[2])]), &[2], &[7.0, 7.0]);
    assert!(fails(&Op::Expand, &[&x, &ints(&[2, 2])]).contains("cannot be broadcast"));
    assert!(fails(&Op::Expand, &[&x, &ints(&[-1])]).contains("negative"));
    assert!(fails(&Op::Expand, &[&t(&[], &[1.0]), &ints(&[1 << 20, 1 << 20])]).contains("more than"));
}

#[test]
fn tile_repeats_each_axis() {
    let x = iota(&[2, 2]);
    check(&run(&Op::Tile, &[&x, &ints(&[1, 2])]), &[2, 4], &[1.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 4.0]);
    check(&run(&Op::Tile, &[&x, &ints(&[2, 1])]), &[4, 2], &[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0]);
    check(&run(&Op::Tile, &[&x, &ints(&[0, 3])]), &[0, 6], &[]);
    assert!(fails(&Op::Tile, &[&x, &ints(&[2])]).contains("one per axis"));
}

#[test]
fn split_by_sizes_equally_and_unevenly() {
    let x = iota(&[5]);
    let by_input = Op::Split { axis: 0, split: None, outputs: 2 };
    let ys = run_opt(&by_input, &[Some(&x), Some(&ints(&[2, 3]))]);
    check(&ys[0], &[2], &[1.0, 2.0]);
    check(&ys[1], &[3], &[3.0, 4.0, 5.0]);
    // Opset 18 num_outputs rule: parts of ⌈5/2⌉, the last one smaller.
    let ys = run_opt(&by_input, &[Some(&x)]);
    check(&ys[0], &[3], &[1.0, 2.0, 3.0]);
    check(&ys[1], &[2], &[4.0, 5.0]);
    let equal = Op::Split { axis: -1, split: None, outputs: 2 };
    let ys = run_opt(&equal, &[Some(&iota(&[2, 4]))]);
    check(&ys[0], &[2, 2], &[1.0, 2.0, 5.0, 6.0]);
    check(&ys[1], &[2, 2], &[3.0, 4.0, 7.0, 8.0]);
    let by_attr = Op::Split { axis: 0, split: Some(vec![1, 0, 1]), outputs: 3 };
    let ys = run_opt(&by_attr, &[Some(&iota(&[2, 2]))]);
    check(&ys[0], &[1, 2], &[1.0, 2.0]);
    check(&ys[1], &[0, 2], &[]);
    check(&ys[2], &[1, 2], &[3.0, 4.0]);
    assert!(eval_op(&by_input, &[Some(&x), Some(&ints(&[2, 2]))], 21).unwrap_err().contains("adding up to 5"));
    let four = Op::Split { axis: 0, split: None, outputs: 4 };
    assert!(eval_op(&four, &[Some(&x)], 21).unwrap_err().contains("nothing for the last"));
}

fn pad(mode: PadMode) -> Op {
    Op::Pad { mode, pads: None, value: 0.0 }
}

#[test]
fn pad_constant_with_one_sided_pads() {
    // pads = [begin₀, begin₁, end₀, end₁]
    let y = run(&pad(PadMode::Constant), &[&iota(&[2, 2]), &ints(&[0, 1, 1, 0]), &t(&[], &[9.0])]);
    check(&y, &[3, 3], &[9.0, 1.0, 2.0, 9.0, 3.0, 4.0, 9.0, 9.0, 9.0]);
    // Opset < 11: pads and value from the attributes.
    let attr = Op::Pad { mode: PadMode::Constant, pads: Some(vec![1, 0]), value: -1.0 };
    check(&run(&attr, &[&iota(&[2])]), &[3], &[-1.0, 1.0, 2.0]);
}

#[test]
fn pad_reflect_edge_wrap_and_crop() {
    let x = iota(&[3]);
    check(&run(&pad(PadMode::Reflect), &[&x, &ints(&[2, 2])]), &[7], &[3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]);
    check(&run(&pad(PadMode::Edge), &[&x, &ints(&[2, 1])]), &[6], &[1.0, 1.0, 1.0, 2.0, 3.0, 3.0]);
    check(&run(&pad(PadMode::Wrap), &[&x, &ints(&[1, 2])]), &[6], &[3.0, 1.0, 2.0, 3.0, 1.0, 2.0]);
    check(&run(&pad(PadMode::Constant), &[&x, &ints(&[-1, 1])]), &[3], &[2.0, 3.0, 0.0]);
    assert!(fails(&pad(PadMode::Constant), &[&x, &ints(&[-2, -2])]).contains("removes more than"));
    assert!(fails(&pad(PadMode::Constant), &[&x, &ints(&[1])]).contains("1 pads for 1 axes"));
}

#[test]
fn pad_selected_axes() {
    let y = run(&pad(PadMode::Constant), &[&iota(&[2, 2]), &ints(&[1, 1]), &t(&[], &[0.0]), &ints(&[-1])]);
    check(&y, &[2, 4], &[0.0, 1.0, 2.0, 0.0, 0.0, 3.0, 4.0, 0.0]);
}
