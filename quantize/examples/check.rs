use tachyon_quantize::*;
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let g = tachyon_frontend::load_model(std::path::Path::new(&a[1])).unwrap();
    let cfg = if a.len() > 4 { Config::parse(&a[4]).unwrap() } else { Config::default() };
    let m = match lower(&g, &cfg) {
        Ok(m) => m,
        Err(e) => {
            println!("ERR {e}");
            return;
        }
    };
    print!("{m}");
    let x: Vec<f64> = serde_json::from_str(&std::fs::read_to_string(&a[2]).unwrap()).unwrap();
    let y: Vec<f64> = serde_json::from_str(&std::fs::read_to_string(&a[3]).unwrap()).unwrap();
    let nin: usize = m.prologue.input_shape.iter().product();
    let n = x.len() / nin;
    let nout = y.len() / n;
    let tname = a.get(5).cloned();
    let (mut exact, mut argm) = (0, 0);
    let mut maxd: f64 = 0.0;
    for i in 0..n {
        let q = interp::quantize_input(&m, &x[i * nin..(i + 1) * nin]).unwrap();
        let all = interp::run_all(&m, &q);
        let out: Vec<f64> = if let Some(tn) = &tname {
            let t = m.tensors.iter().rposition(|t| &t.name == tn).unwrap();
            all[t].iter().zip(&m.tensors[t].elems).map(|(&v, e)| v as f64 * 2f64.powi(-e.frac)).collect()
        } else {
            interp::dequantize_output(&m, &all[m.output.0 as usize]).unwrap()
        };
        let want = &y[i * nout..(i + 1) * nout];
        if out.iter().zip(want).all(|(a, b)| (*a as f32) == (*b as f32)) {
            exact += 1
        } else if i < 3 {
            println!("row {i}: got {out:?} want {want:?}");
        }
        for (a, b) in out.iter().zip(want) {
            maxd = maxd.max((a - b).abs());
        }
        let am = |v: &[f64]| v.iter().enumerate().fold(0, |b, (k, &x)| if x > v[b] { k } else { b });
        if am(&out) == am(want) {
            argm += 1
        }
    }
    println!("rows {n}: exact {exact}, argmax agree {argm}, max|d| {maxd}");
}
