//! Einsum: explicit and implicit equations, batched products, diagonals, traces.

use super::*;
use tachyon_frontend::eval::einsum::normalize;

fn einsum(eq: &str) -> Op {
    Op::Einsum { equation: normalize(eq).unwrap() }
}

#[test]
fn implicit_output_is_the_letters_seen_once_in_order() {
    assert_eq!(normalize("ij,jk").unwrap(), "ij,jk->ik");
    assert_eq!(normalize(" ba , ac ").unwrap(), "ba,ac->bc");
    assert_eq!(normalize("ii").unwrap(), "ii->");
    assert_eq!(normalize("bnf,fh -> bnh").unwrap(), "bnf,fh->bnh");
}

#[test]
fn matrix_product() {
    let (a, b) = (iota(&[2, 3]), t(&[3, 2], &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0]));
    check(&run(&einsum("ij,jk"), &[&a, &b]), &[2, 2], &[4.0, 5.0, 10.0, 11.0]);
    check(&run(&einsum("ij,jk->ki"), &[&a, &b]), &[2, 2], &[4.0, 10.0, 5.0, 11.0]);
}

#[test]
fn dense_layer_over_a_sequence() {
    let x = t(&[2, 1, 2], &[1.0, 2.0, 3.0, 4.0]);
    let w = t(&[2, 3], &[1.0, 0.0, 1.0, 0.0, 1.0, 1.0]);
    check(&run(&einsum("bnf,fh->bnh"), &[&x, &w]), &[2, 1, 3], &[1.0, 2.0, 3.0, 3.0, 4.0, 7.0]);
}

#[test]
fn batched_matrix_product() {
    let a = t(&[2, 2, 2], &[1.0, 2.0, 3.0, 4.0, 1.0, 0.0, 0.0, 2.0]);
    let b = t(&[2, 2, 1], &[1.0, 1.0, 3.0, 4.0]);
    check(&run(&einsum("bij,bjk->bik"), &[&a, &b]), &[2, 2, 1], &[3.0, 7.0, 3.0, 8.0]);
}

#[test]
fn diagonal_trace_transpose_and_three_operands() {
    let m = iota(&[3, 3]);
    check(&run(&einsum("ii->i"), &[&m]), &[3], &[1.0, 5.0, 9.0]);
    check(&run(&einsum("ii"), &[&m]), &[], &[15.0]);
    check(&run(&einsum("ij->ji"), &[&iota(&[2, 3])]), &[3, 2], &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    let (p, q, r) = (t(&[2], &[1.0, 2.0]), t(&[2], &[3.0, 4.0]), t(&[2], &[5.0, 6.0]));
    check(&run(&einsum("i,i,i->"), &[&p, &q, &r]), &[], &[63.0]);
    check(&run(&einsum("i,j->ij"), &[&p, &q]), &[2, 2], &[3.0, 4.0, 6.0, 8.0]);
}

#[test]
fn bad_equations_and_operands() {
    assert!(normalize("...ij,jk").unwrap_err().contains("ellipsis"));
    assert!(normalize("i1,jk").unwrap_err().contains("'1' is not a letter"));
    assert!(normalize("ij,jk->iz").unwrap_err().contains("output letter 'z'"));
    assert!(normalize("ij->ii").unwrap_err().contains("given once"));
    let mm = einsum("ij,jk->ik");
    assert!(fails(&mm, &[&iota(&[2, 3]), &iota(&[2, 2])]).contains("letter 'j' stands for sizes 3 and 2"));
    assert!(fails(&mm, &[&iota(&[2, 3])]).contains("2 operands"));
    assert!(fails(&mm, &[&iota(&[2, 3]), &iota(&[3])]).contains("term 'jk' has 2 letters"));
}
