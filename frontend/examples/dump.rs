fn main() {
    for a in std::env::args().skip(1) {
        match tachyon_frontend::load_model(std::path::Path::new(&a)) {
            Ok(g) => print!("{}", tachyon_frontend::print::dump(&g)),
            Err(e) => println!("error: {e}"),
        }
    }
}
