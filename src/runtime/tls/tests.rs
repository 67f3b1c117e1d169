#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

/// A self-signed certificate for 127.0.0.1 and its key, as PEM files in a fresh folder.
fn pair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (c, k) = (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}-key.pem")),
    );
    std::fs::write(&c, cert.pem()).unwrap();
    std::fs::write(&k, key.serialize_pem()).unwrap();
    (c, k)
}

fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("iamc-tls-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_pair_loads_and_offers_h2_then_http11() {
    let dir = folder("ok");
    let (c, k) = pair(&dir, "a");
    let tls = Tls::load(&c, &k).unwrap();
    assert_eq!(
        tls.config.load().alpn_protocols,
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_files_are_refused_by_name_and_a_reload_keeps_the_old_pair() {
    let dir = folder("bad");
    let (c, k) = pair(&dir, "a");
    let (_, other_key) = pair(&dir, "b");
    let missing = dir.join("missing.pem");
    let e = Tls::load(&missing, &k).unwrap_err();
    assert!(e.contains("missing.pem"), "{e}");
    let e = Tls::load(&k, &k).unwrap_err();
    assert!(e.contains("no certificate"), "{e}");
    let e = Tls::load(&c, &c).unwrap_err();
    assert!(e.contains("a.pem"), "{e}");
    // A key that is not the certificate's.
    assert!(Tls::load(&c, &other_key).is_err());

    let tls = Tls::load(&c, &k).unwrap();
    let before = tls.config.load_full();
    std::fs::write(&c, "not a certificate").unwrap();
    assert!(tls.reload().is_err());
    assert!(
        Arc::ptr_eq(&before, &tls.config.load_full()),
        "the old pair keeps serving"
    );
    let _ = std::fs::remove_dir_all(dir);
}
