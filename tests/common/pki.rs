//! Test certificates made with rcgen: a CA, and leaves signed by it — one
//! for localhost, one for another name, an expired one, and a client's.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    date_time_ymd,
};

use super::TempDir;

/// Paths of the files written.
pub struct Pki {
    pub dir: TempDir,
    pub ca: String,
    pub cert: String,
    pub key: String,
    pub other_cert: String,
    pub other_key: String,
    pub expired_cert: String,
    pub expired_key: String,
    pub client_cert: String,
    pub client_key: String,
}

fn now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap()
}

fn leaf(
    names: &[&str],
    ca: &CertifiedIssuer<'_, KeyPair>,
    expired: bool,
    client: bool,
) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut p =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    p.distinguished_name.push(
        DnType::CommonName,
        names.first().copied().unwrap_or("client"),
    );
    let epoch = date_time_ymd(1970, 1, 1);
    if expired {
        p.not_before = epoch + (now() - Duration::from_secs(30 * 86_400));
        p.not_after = epoch + (now() - Duration::from_secs(86_400));
    } else {
        p.not_before = epoch + (now() - Duration::from_secs(86_400));
        p.not_after = epoch + (now() + Duration::from_secs(30 * 86_400));
    }
    p.extended_key_usages = vec![if client {
        ExtendedKeyUsagePurpose::ClientAuth
    } else {
        ExtendedKeyUsagePurpose::ServerAuth
    }];
    let cert = p.signed_by(&key, ca).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// Make everything in a fresh temp dir.
pub fn make(tag: &str) -> Pki {
    let dir = TempDir::new(tag);
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "netkit test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let ca_path = write("ca.pem", &ca.pem());
    let (c, k) = leaf(&["localhost", "127.0.0.1", "::1"], &ca, false, false);
    let (oc, ok) = leaf(&["other.test"], &ca, false, false);
    let (ec, ek) = leaf(&["localhost", "127.0.0.1"], &ca, true, false);
    let (cc, ck) = leaf(&["client.test"], &ca, false, true);
    Pki {
        ca: ca_path,
        cert: write("cert.pem", &c),
        key: write("key.pem", &k),
        other_cert: write("other.pem", &oc),
        other_key: write("other.key", &ok),
        expired_cert: write("expired.pem", &ec),
        expired_key: write("expired.key", &ek),
        client_cert: write("client.pem", &cc),
        client_key: write("client.key", &ck),
        dir,
    }
}
