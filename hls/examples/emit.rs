fn main() {
    let a: Vec<String> = std::env::args().collect();
    let g = tachyon_frontend::load_model(std::path::Path::new(&a[1])).unwrap();
    let cfg = if a.len() > 3 { tachyon_quantize::Config::parse(&a[3]).unwrap() } else { Default::default() };
    let m = tachyon_quantize::lower(&g, &cfg).unwrap();
    let t = std::time::Instant::now();
    let d = tachyon_hls::synthesize(&m, &tachyon_hls::HlsOptions::default());
    eprintln!("synth {:?}", t.elapsed());
    tachyon_rtl::verify(&d.module).unwrap();
    std::fs::write(&a[2], tachyon_rtl::emit_verilog(&d.module)).unwrap();
    eprintln!(
        "total {:?} latency {} signals {} est {:?}",
        t.elapsed(),
        d.latency,
        d.module.signals.len(),
        d.report.total
    );
}
