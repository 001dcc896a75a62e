//! Tanh, LeakyRelu, HardSigmoid, Clip, variadic Max / Min.

use super::*;

#[test]
fn tanh_leaky_relu_hard_sigmoid() {
    check(&run(&Op::Tanh, &[&t(&[2], &[0.0, 1.0])]), &[2], &[0.0, 0.7615941559557649]);
    check(&run(&Op::LeakyRelu { alpha: 0.1 }, &[&t(&[3], &[-2.0, 0.0, 3.0])]), &[3], &[-0.2, 0.0, 3.0]);
    let hs = Op::HardSigmoid { alpha: 0.2, beta: 0.5 };
    check(&run(&hs, &[&t(&[4], &[-5.0, 0.0, 1.0, 5.0])]), &[4], &[0.0, 0.5, 0.7, 1.0]);
}

#[test]
fn clip_from_attributes_and_inputs() {
    let x = t(&[4], &[-1.0, 3.0, 7.0, 0.5]);
    check(&run(&Op::Clip { min: Some(0.0), max: Some(6.0) }, &[&x]), &[4], &[0.0, 3.0, 6.0, 0.5]);
    let from_inputs = Op::Clip { min: None, max: None };
    check(&run(&from_inputs, &[&x, &t(&[], &[0.0]), &t(&[], &[1.0])]), &[4], &[0.0, 1.0, 1.0, 0.5]);
    // Only a max (min omitted): unbounded below.
    let y = &run_opt(&from_inputs, &[Some(&x), None, Some(&t(&[], &[2.0]))])[0];
    check(y, &[4], &[-1.0, 2.0, 2.0, 0.5]);
    // No bounds at all.
    check(&run(&from_inputs, &[&x]), &[4], &x.data);
    assert!(fails(&from_inputs, &[&x, &t(&[2], &[0.0, 1.0])]).contains("min must be a scalar"));
}

#[test]
fn max_and_min_of_three_broadcast_inputs() {
    let (a, b, c) = (t(&[2, 1], &[1.0, 5.0]), t(&[3], &[2.0, 3.0, 4.0]), t(&[], &[3.0]));
    check(&run(&Op::Max, &[&a, &b, &c]), &[2, 3], &[3.0, 3.0, 4.0, 5.0, 5.0, 5.0]);
    check(&run(&Op::Min, &[&a, &b, &c]), &[2, 3], &[1.0, 1.0, 1.0, 2.0, 3.0, 3.0]);
    check(&run(&Op::Max, &[&b]), &[3], &b.data);
    assert!(fails(&Op::Min, &[&t(&[2], &[0.0, 1.0]), &b]).contains("cannot be broadcast"));
    assert!(fails(&Op::Max, &[]).contains("at least one input"));
}
