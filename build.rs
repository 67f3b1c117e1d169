//! Generates the text-policy parser from `grammar/policy.lalrpop` into `$OUT_DIR/policy.rs`.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let out_dir = match std::env::var_os("OUT_DIR") {
        Some(d) => d,
        None => {
            println!("cargo:warning=OUT_DIR is not set");
            std::process::exit(1);
        }
    };
    let result = lalrpop::Configuration::new()
        .set_in_dir("grammar")
        .set_out_dir(out_dir)
        .emit_rerun_directives(true)
        .process();
    if let Err(e) = result {
        eprintln!("lalrpop: {e}");
        std::process::exit(1);
    }
}
