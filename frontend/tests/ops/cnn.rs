//! Conv (strides, one-sided pads, dilation, groups, 1×1, 1-D, 3-D, auto_pad) and pooling
//! (count_include_pad both ways, ceil_mode, dilation).

use super::*;

fn conv(w: Window, group: usize) -> Op {
    Op::Conv { window: w, group }
}

fn with(f: impl FnOnce(&mut Window)) -> Window {
    let mut w = window();
    f(&mut w);
    w
}

#[test]
fn conv_2d_valid_with_bias() {
    let (x, w) = (iota(&[1, 1, 3, 3]), t(&[1, 1, 2, 2], &[1.0; 4]));
    check(&run(&conv(window(), 1), &[&x, &w]), &[1, 1, 2, 2], &[12.0, 16.0, 24.0, 28.0]);
    check(&run(&conv(window(), 1), &[&x, &w, &t(&[1], &[1.0])]), &[1, 1, 2, 2], &[13.0, 17.0, 25.0, 29.0]);
}

#[test]
fn conv_stride_2_with_pads_and_an_asymmetric_kernel() {
    // Window top-left corners at input (−1,−1), (−1,1), (1,−1), (1,1); the kernel reads its
    // corner ×1 and the opposite corner ×2.
    let x = iota(&[1, 1, 3, 3]);
    let w = t(&[1, 1, 3, 3], &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0]);
    let op = conv(with(|w| (w.strides, w.pads) = (Some(vec![2, 2]), Some(vec![1, 1, 1, 1]))), 1);
    check(&run(&op, &[&x, &w]), &[1, 1, 2, 2], &[10.0, 0.0, 0.0, 5.0]);
}

#[test]
fn conv_one_sided_pads() {
    let (x, w) = (t(&[1, 1, 1, 3], &[1.0, 2.0, 3.0]), t(&[1, 1, 1, 2], &[1.0, 10.0]));
    let begin = conv(with(|w| w.pads = Some(vec![0, 1, 0, 0])), 1);
    check(&run(&begin, &[&x, &w]), &[1, 1, 1, 3], &[10.0, 21.0, 32.0]);
    let end = conv(with(|w| w.pads = Some(vec![0, 0, 0, 1])), 1);
    check(&run(&end, &[&x, &w]), &[1, 1, 1, 3], &[21.0, 32.0, 3.0]);
    let top = conv(with(|w| w.pads = Some(vec![1, 0, 0, 0])), 1);
    check(&run(&top, &[&x, &w]), &[1, 1, 2, 2], &[0.0, 0.0, 21.0, 32.0]);
}

#[test]
fn conv_dilation() {
    let (x, w) = (iota(&[1, 1, 1, 5]), t(&[1, 1, 1, 2], &[1.0, 10.0]));
    let op = conv(with(|w| w.dilations = Some(vec![1, 2])), 1);
    check(&run(&op, &[&x, &w]), &[1, 1, 1, 3], &[31.0, 42.0, 53.0]);
}

#[test]
fn conv_depthwise() {
    let x = iota(&[1, 2, 2, 2]);
    let w = t(&[2, 1, 2, 2], &[1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, -1.0]);
    check(&run(&conv(window(), 2), &[&x, &w]), &[1, 2, 1, 1], &[10.0, -3.0]);
    // Depth multiplier 2: output channels 0, 1 read input channel 0; 2, 3 read channel 1.
    let (x, w) = (t(&[1, 2, 1, 1], &[10.0, 20.0]), t(&[4, 1, 1, 1], &[1.0, 2.0, 3.0, 4.0]));
    check(&run(&conv(window(), 2), &[&x, &w]), &[1, 4, 1, 1], &[10.0, 20.0, 60.0, 80.0]);
}

#[test]
fn conv_pointwise_multichannel_and_batched() {
    let x = t(&[1, 2, 1, 2], &[1.0, 2.0, 3.0, 4.0]);
    let w = t(&[3, 2, 1, 1], &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
    let y = run(&conv(window(), 1), &[&x, &w, &t(&[3], &[0.0, 0.0, 10.0])]);
    check(&y, &[1, 3, 1, 2], &[1.0, 2.0, 3.0, 4.0, 14.0, 16.0]);
    let (x, w) = (t(&[2, 2, 1, 1], &[1.0, 2.0, 3.0, 4.0]), t(&[1, 2, 1, 1], &[1.0, 10.0]));
    check(&run(&conv(window(), 1), &[&x, &w]), &[2, 1, 1, 1], &[21.0, 43.0]);
}

#[test]
fn conv_1d_and_auto_pad() {
    let (x, w) = (iota(&[1, 1, 4]), t(&[1, 1, 2], &[1.0, -1.0]));
    check(&run(&conv(window(), 1), &[&x, &w]), &[1, 1, 3], &[-1.0, -1.0, -1.0]);
    let upper = conv(with(|w| w.auto_pad = AutoPad::SameUpper), 1);
    check(&run(&upper, &[&x, &w]), &[1, 1, 4], &[-1.0, -1.0, -1.0, 4.0]);
    let lower = conv(with(|w| w.auto_pad = AutoPad::SameLower), 1);
    check(&run(&lower, &[&x, &w]), &[1, 1, 4], &[-1.0, -1.0, -1.0, -1.0]);
    // SAME with stride 2 on 5 cells: 3 outputs, total padding (3−1)·2 + 3 − 5 = 2.
    let same2 = conv(with(|w| (w.auto_pad, w.strides) = (AutoPad::SameUpper, Some(vec![2]))), 1);
    check(&run(&same2, &[&iota(&[1, 1, 5]), &t(&[1, 1, 3], &[1.0; 3])]), &[1, 1, 3], &[3.0, 9.0, 9.0]);
    let valid = conv(with(|w| (w.auto_pad, w.strides) = (AutoPad::Valid, Some(vec![2]))), 1);
    check(&run(&valid, &[&x, &w]), &[1, 1, 2], &[-1.0, -1.0]);
}

#[test]
fn conv_3d() {
    check(
        &run(&conv(window(), 1), &[&iota(&[1, 1, 2, 2, 2]), &t(&[1, 1, 2, 2, 2], &[1.0; 8])]),
        &[1, 1, 1, 1, 1],
        &[36.0],
    );
}

#[test]
fn conv_errors() {
    let x = iota(&[1, 2, 3, 3]);
    assert!(fails(&conv(window(), 1), &[&x, &iota(&[1, 1, 2, 2])]).contains("group=1"));
    assert!(fails(&conv(window(), 1), &[&x, &iota(&[1, 2, 4, 4])]).contains("window spans 4 cells"));
    let k = conv(with(|w| w.kernel = Some(vec![3, 3])), 1);
    assert!(fails(&k, &[&x, &iota(&[1, 2, 2, 2])]).contains("'kernel_shape' [3, 3] differs"));
    let s = conv(with(|w| w.strides = Some(vec![1])), 1);
    assert!(fails(&s, &[&x, &iota(&[1, 2, 2, 2])]).contains("'strides' has 1 values for 2 spatial axes"));
    assert!(fails(&conv(window(), 1), &[&iota(&[1, 2]), &iota(&[1, 2])]).contains("at least one spatial axis"));
    assert!(fails(&conv(window(), 1), &[&x, &iota(&[1, 2, 2, 2]), &iota(&[2])]).contains("bias has 2 values"));
}

fn pool_window() -> Window {
    with(|w| (w.kernel, w.strides, w.pads) = (Some(vec![2, 2]), Some(vec![2, 2]), Some(vec![1, 1, 1, 1])))
}

#[test]
fn average_pool_count_include_pad_both_ways() {
    // Windows over input rows/cols {−1,0}×{−1,0}, {−1,0}×{1,2}, {1,2}×{−1,0}, {1,2}×{1,2}.
    let x = iota(&[1, 1, 3, 3]);
    let excl = Op::AveragePool { window: pool_window(), ceil_mode: false, count_include_pad: false };
    check(&run(&excl, &[&x]), &[1, 1, 2, 2], &[1.0, 2.5, 5.5, 7.0]);
    let incl = Op::AveragePool { window: pool_window(), ceil_mode: false, count_include_pad: true };
    check(&run(&incl, &[&x]), &[1, 1, 2, 2], &[0.25, 1.25, 2.75, 7.0]);
}

#[test]
fn max_pool_ignores_padding() {
    let x = t(&[1, 1, 3, 3], &(1..=9).map(|v| -f64::from(v)).collect::<Vec<_>>());
    let op = Op::MaxPool { window: pool_window(), ceil_mode: false };
    check(&run(&op, &[&x]), &[1, 1, 2, 2], &[-1.0, -2.0, -4.0, -5.0]);
    // Two channels of a batch of one, no padding.
    let op = Op::MaxPool { window: with(|w| w.kernel = Some(vec![2])), ceil_mode: false };
    check(&run(&op, &[&t(&[1, 2, 3], &[1.0, 3.0, 2.0, 0.0, -1.0, 5.0])]), &[1, 2, 2], &[3.0, 3.0, 0.0, 5.0]);
}

#[test]
fn pools_in_ceil_mode() {
    let x = iota(&[1, 1, 1, 5]);
    let w = with(|w| (w.kernel, w.strides) = (Some(vec![1, 2]), Some(vec![1, 2])));
    let max = Op::MaxPool { window: w.clone(), ceil_mode: true };
    check(&run(&max, &[&x]), &[1, 1, 1, 3], &[2.0, 4.0, 5.0]);
    check(&run(&Op::MaxPool { window: w.clone(), ceil_mode: false }, &[&x]), &[1, 1, 1, 2], &[2.0, 4.0]);
    // The overhang past the end is never counted, even with count_include_pad.
    for count_include_pad in [false, true] {
        let avg = Op::AveragePool { window: w.clone(), ceil_mode: true, count_include_pad };
        check(&run(&avg, &[&x]), &[1, 1, 1, 3], &[1.5, 3.5, 5.0]);
    }
    // 4 cells, kernel 2, stride 2, end pad 1: ⌈(5−2)/2⌉+1 = 3 windows in ceil mode, but the third
    // would start at cell 4, in the end padding, so it is dropped.
    let w = with(|w| (w.kernel, w.strides, w.pads) = (Some(vec![2]), Some(vec![2]), Some(vec![0, 1])));
    let max = Op::MaxPool { window: w, ceil_mode: true };
    check(&run(&max, &[&iota(&[1, 1, 4])]), &[1, 1, 2], &[2.0, 4.0]);
    // Kernel 2, stride 3, pads 1 both sides on 4 cells: windows {−1, 0} and {2, 3}; the padding
    // cell counts in the first average.
    let w = with(|w| (w.kernel, w.strides, w.pads) = (Some(vec![2]), Some(vec![3]), Some(vec![1, 1])));
    let avg = Op::AveragePool { window: w, ceil_mode: true, count_include_pad: true };
    check(&run(&avg, &[&iota(&[1, 1, 4])]), &[1, 1, 2], &[0.5, 3.5]);
}

#[test]
fn max_pool_dilation() {
    let x = t(&[1, 1, 1, 5], &[1.0, 5.0, 2.0, 4.0, 3.0]);
    let op = Op::MaxPool {
        window: with(|w| (w.kernel, w.dilations) = (Some(vec![1, 2]), Some(vec![1, 2]))),
        ceil_mode: false,
    };
    check(&run(&op, &[&x]), &[1, 1, 1, 3], &[2.0, 5.0, 3.0]);
}

#[test]
fn pool_errors() {
    let op = Op::MaxPool { window: window(), ceil_mode: false };
    assert!(fails(&op, &[&iota(&[1, 1, 3])]).contains("'kernel_shape'"));
    let op = Op::AveragePool { window: with(|w| w.kernel = Some(vec![4])), ceil_mode: false, count_include_pad: false };
    assert!(fails(&op, &[&iota(&[1, 1, 3])]).contains("window spans 4 cells"));
}
