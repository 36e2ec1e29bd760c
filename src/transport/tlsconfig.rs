//! TLS configurations: what a client trusts and what a server presents.
//!
//! Crypto is rustls with the `ring` provider (no OpenSSL; ring builds in
//! seconds where aws-lc-rs needs cmake and minutes on 2 cores).
//!
//! A client trusts, in this order of precedence: a pinned certificate
//! (`--tls-pin`, the SHA-256 of the server's certificate as printed on a
//! netkit server's listening line or by `openssl x509 -fingerprint -sha256`),
//! nothing (`--tls-insecure`), the CAs of `--tls-ca FILE`, or the system's
//! roots. System roots come from `rustls-native-certs`, which reads the
//! distribution's store (`/etc/ssl/certs`, `SSL_CERT_FILE`, `SSL_CERT_DIR`):
//! the CAs an administrator added with `update-ca-certificates` count, as they
//! do for curl and openssl, which a compiled-in list (webpki-roots) would miss.
//! Pinned and insecure sessions still check the handshake signature, so the
//! server proves it holds the key of the certificate it shows.
//!
//! A server presents `--tls-cert`/`--tls-key` (PEM), or a certificate made at
//! start (rcgen, ECDSA P-256, for `localhost`, `127.0.0.1`, `::1` and the bound
//! name, valid from a day ago for 30 days) whose fingerprint goes on the
//! listening line. `--tls-ca` on a server asks clients for a certificate
//! signed by those CAs.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig,
    SignatureScheme,
};

use crate::error;

/// The crypto provider every config uses.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// SHA-256 of a DER certificate as `AB:CD:...` (openssl's format).
pub fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    let mut out = String::with_capacity(95);
    for (i, b) in digest.as_ref().iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let _ = write!(out, "{b:02X}");
    }
    out
}

/// Parse a `--tls-pin`: 64 hex digits, colons and a `sha256:` prefix allowed.
pub fn parse_pin(s: &str) -> Result<[u8; 32], String> {
    let t = s.trim();
    let t = t
        .strip_prefix("sha256:")
        .or_else(|| t.strip_prefix("SHA256:"))
        .or_else(|| t.strip_prefix("sha256//"))
        .unwrap_or(t);
    let hex: String = t.chars().filter(|c| *c != ':').collect();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "'{s}' is not a SHA-256 fingerprint (64 hex digits, colons allowed, as on the listening line)"
        ));
    }
    let mut pin = [0u8; 32];
    for (i, b) in pin.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(pin)
}

/// Parse `--tls-alpn h2,http/1.1`.
pub fn parse_alpn(s: &str) -> Result<Vec<String>, String> {
    let list: Vec<String> = s
        .split(',')
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    if list.is_empty() || list.iter().any(|p| p.len() > 255) {
        return Err(format!(
            "'{s}' is not an ALPN list (e.g. h2,http/1.1; each at most 255 bytes)"
        ));
    }
    Ok(list)
}

/// What a TLS client trusts and presents (plain data, from the command line).
#[derive(Debug, Clone, Default)]
pub struct TlsClientOptions {
    /// Trust these CAs (PEM) instead of the system's.
    pub ca: Option<PathBuf>,
    /// Accept any certificate.
    pub insecure: bool,
    /// Accept exactly the certificate with this SHA-256.
    pub pin: Option<[u8; 32]>,
    /// The name to send (SNI) and to check the certificate against; the host when absent.
    pub sni: Option<String>,
    /// ALPN protocols to offer.
    pub alpn: Vec<String>,
    /// A client certificate chain (PEM) ...
    pub cert: Option<PathBuf>,
    /// ... and its key.
    pub key: Option<PathBuf>,
}

/// A client configuration ready to dial, and the name to use for a host.
#[derive(Debug, Clone)]
pub struct TlsClient {
    config: Arc<ClientConfig>,
    sni: Option<String>,
    /// How the client decides trust, for error hints.
    pub trust: Trust,
}

/// What a client's trust rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// The system's CA store.
    System,
    /// `--tls-ca`.
    CaFile,
    /// `--tls-pin`.
    Pin,
    /// `--tls-insecure`.
    Insecure,
}

impl TlsClientOptions {
    /// Build the configuration: reads the CA, certificate and key files.
    pub fn build(&self) -> Result<TlsClient> {
        let provider = provider();
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .context("cannot set up TLS")?;
        let (builder, trust) = if let Some(pin) = self.pin {
            let v = Arc::new(PinVerifier {
                pin: Some(pin),
                provider: provider.clone(),
            });
            (
                builder.dangerous().with_custom_certificate_verifier(v),
                Trust::Pin,
            )
        } else if self.insecure {
            let v = Arc::new(PinVerifier {
                pin: None,
                provider: provider.clone(),
            });
            (
                builder.dangerous().with_custom_certificate_verifier(v),
                Trust::Insecure,
            )
        } else {
            let (roots, trust) = match &self.ca {
                Some(path) => (roots_from(path)?, Trust::CaFile),
                None => (system_roots()?, Trust::System),
            };
            (builder.with_root_certificates(roots), trust)
        };
        let mut config = match (&self.cert, &self.key) {
            (Some(c), Some(k)) => builder
                .with_client_auth_cert(load_certs(c)?, load_key(k)?)
                .context("bad client certificate or key")?,
            (None, None) => builder.with_no_client_auth(),
            _ => return Err(error::usage("--tls-cert and --tls-key go together")),
        };
        config.alpn_protocols = self.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        Ok(TlsClient {
            config: Arc::new(config),
            sni: self.sni.clone(),
            trust,
        })
    }
}

impl TlsClient {
    /// A new client session for `host` (or `--tls-sni`).
    pub fn session(&self, host: &str) -> Result<rustls::ClientConnection> {
        let name = self.server_name(host)?;
        rustls::ClientConnection::new(self.config.clone(), name)
            .context("cannot start a TLS session")
    }

    /// The name sent as SNI and checked against the certificate.
    pub fn server_name(&self, host: &str) -> Result<ServerName<'static>> {
        let name = self.sni.as_deref().unwrap_or(host);
        let name = name.trim_start_matches('[').trim_end_matches(']');
        ServerName::try_from(name.to_string())
            .map_err(|_| error::usage(format!("'{name}' is not a valid TLS server name")))
    }

    /// A one-line explanation of a failed handshake, with what to try.
    pub fn explain(&self, host: &str, e: &rustls::Error) -> String {
        explain(e, self.sni.as_deref().unwrap_or(host), self.trust)
    }
}

/// The system's trusted CAs.
fn system_roots() -> Result<RootCertStore> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(anyhow!(
            "no system CA certificates found (install ca-certificates, or use --tls-ca FILE, --tls-pin or --tls-insecure)"
        ));
    }
    Ok(roots)
}

fn roots_from(path: &Path) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    let certs = load_certs(path)?;
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(anyhow!("{}: no usable CA certificate", path.display()));
    }
    Ok(roots)
}

/// Every certificate in a PEM file.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("{}: bad PEM", path.display()))?;
    if certs.is_empty() {
        return Err(anyhow!("{}: no certificate found", path.display()));
    }
    Ok(certs)
}

/// The first private key in a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path).with_context(|| {
        format!(
            "cannot read a private key from {} (PEM: PKCS#8, RSA or EC)",
            path.display()
        )
    })
}

/// Trusts one certificate by its SHA-256 (`pin`), or any (`None`); either
/// way the handshake signature is checked.
#[derive(Debug)]
struct PinVerifier {
    pin: Option<[u8; 32]>,
    provider: Arc<CryptoProvider>,
}

/// The server's certificate is not the pinned one.
#[derive(Debug)]
pub struct PinMismatch {
    /// The fingerprint the server presented.
    pub got: String,
}

impl std::fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "certificate pin mismatch: the server's certificate has SHA-256 {}",
            self.got
        )
    }
}

impl std::error::Error for PinMismatch {}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(pin) = self.pin else {
            return Ok(ServerCertVerified::assertion());
        };
        let got = ring::digest::digest(&ring::digest::SHA256, end_entity.as_ref());
        if got.as_ref() == pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                rustls::OtherError(Arc::new(PinMismatch {
                    got: fingerprint(end_entity.as_ref()),
                })),
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A date from a certificate, as `2024-01-31 12:00:00 UTC`.
fn date(t: UnixTime) -> String {
    crate::hexdump::format_utc(UNIX_EPOCH + Duration::from_secs(t.as_secs()))
        .split('.')
        .next()
        .unwrap_or_default()
        .to_string()
        + " UTC"
}

/// One line on why a handshake failed, and what to try.
pub fn explain(e: &rustls::Error, name: &str, trust: Trust) -> String {
    use rustls::AlertDescription as A;
    let hint_trust = match trust {
        Trust::System => {
            " (trust it with --tls-ca FILE or --tls-pin SHA256, or skip checks with --tls-insecure)"
        }
        Trust::CaFile => {
            " (not signed by a CA in --tls-ca; --tls-pin SHA256 trusts one certificate)"
        }
        _ => "",
    };
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::Expired => "certificate expired".to_string(),
            CertificateError::ExpiredContext { not_after, .. } => {
                format!("certificate expired on {}", date(*not_after))
            }
            CertificateError::NotValidYet => "certificate not valid yet".into(),
            CertificateError::NotValidYetContext { not_before, .. } => {
                format!("certificate not valid until {}", date(*not_before))
            }
            CertificateError::NotValidForName => {
                format!(
                    "certificate is not valid for '{name}' (--tls-sni NAME checks another name)"
                )
            }
            CertificateError::NotValidForNameContext { presented, .. } => format!(
                "certificate is for {}, not '{name}' (--tls-sni NAME checks another name)",
                if presented.is_empty() {
                    "no name".to_string()
                } else {
                    presented
                        .iter()
                        .map(|p| bare_name(p))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
            CertificateError::UnknownIssuer => {
                format!("certificate signed by an unknown authority{hint_trust}")
            }
            CertificateError::BadSignature => "certificate has a bad signature".into(),
            CertificateError::Revoked => "certificate revoked".into(),
            CertificateError::Other(o) if o.to_string().contains("CaUsedAsEndEntity") => {
                "the server's certificate is a CA certificate (as `openssl req -x509` makes \
                 by default): trust it with --tls-pin SHA256, or give the server a leaf \
                 certificate"
                    .into()
            }
            CertificateError::Other(o) => o.to_string(),
            other => format!("certificate rejected: {other:?}"),
        },
        rustls::Error::AlertReceived(a) => match a {
            A::CertificateRequired => {
                "the server requires a client certificate (--tls-cert FILE --tls-key FILE)".into()
            }
            A::UnknownCA | A::BadCertificate | A::CertificateUnknown => {
                format!("the peer rejected our certificate ({a:?})")
            }
            A::NoApplicationProtocol => {
                "the server supports none of the --tls-alpn protocols".into()
            }
            A::HandshakeFailure | A::ProtocolVersion | A::InsufficientSecurity => format!(
                "the peer refused the handshake ({a:?}: no common protocol version or cipher)"
            ),
            other => format!("the peer sent alert {other:?}"),
        },
        // An echo of our own ClientHello, or bytes that are no TLS record.
        rustls::Error::InvalidMessage(_)
        | rustls::Error::InappropriateMessage { .. }
        | rustls::Error::InappropriateHandshakeMessage { .. } => {
            "the peer does not speak TLS here (is it a plain TCP port?)".into()
        }
        rustls::Error::NoApplicationProtocol => "no common ALPN protocol with the peer".into(),
        rustls::Error::PeerIncompatible(p) => format!("the peer is incompatible: {p:?}"),
        other => other.to_string(),
    }
}

/// `DnsName("a.test")` or `IpAddress(1.2.3.4)` (how rustls lists the
/// names a certificate presents) as the bare name.
fn bare_name(p: &str) -> String {
    let inner = p
        .split_once('(')
        .map(|(_, r)| r.trim_end_matches(')'))
        .unwrap_or(p);
    inner.trim_matches('"').to_string()
}

/// A hint for a TLS error that surfaced after our side of the handshake
/// (TLS 1.3 servers reject a client certificate, or its absence, then).
pub fn hint(e: &rustls::Error) -> Option<&'static str> {
    use rustls::AlertDescription as A;
    match e {
        rustls::Error::AlertReceived(A::CertificateRequired) => {
            Some("the server requires a client certificate: --tls-cert FILE --tls-key FILE")
        }
        rustls::Error::AlertReceived(A::UnknownCA | A::BadCertificate | A::CertificateUnknown) => {
            Some("the server rejected our client certificate")
        }
        _ => None,
    }
}

/// What a server presents (plain data, from the command line).
#[derive(Debug, Clone, Default)]
pub struct TlsServerOptions {
    /// Certificate chain (PEM); generated when absent.
    pub cert: Option<PathBuf>,
    /// Its key.
    pub key: Option<PathBuf>,
    /// Require client certificates signed by these CAs.
    pub client_ca: Option<PathBuf>,
    /// ALPN protocols to accept, in order of preference.
    pub alpn: Vec<String>,
}

/// A server configuration and what the listening line says about it.
#[derive(Debug, Clone)]
pub struct TlsServer {
    /// The rustls configuration.
    pub config: Arc<ServerConfig>,
    /// SHA-256 of the certificate presented.
    pub fingerprint: String,
    /// True when the certificate was made at start.
    pub self_signed: bool,
}

impl TlsServer {
    /// A new server session.
    pub fn session(&self) -> std::io::Result<rustls::ServerConnection> {
        rustls::ServerConnection::new(self.config.clone()).map_err(super::tls::tls_error)
    }
}

impl TlsServerOptions {
    /// Load or make the certificate; `names` go into a generated one's SANs.
    pub fn build(&self, names: &[String]) -> Result<TlsServer> {
        let (chain, key, self_signed) = match (&self.cert, &self.key) {
            (Some(c), Some(k)) => (load_certs(c)?, load_key(k)?, false),
            (Some(c), None) => (load_certs(c)?, load_key(c)?, false), // one PEM with both
            (None, None) => {
                let (c, k) = self_signed_cert(names)?;
                (vec![c], k, true)
            }
            (None, Some(_)) => return Err(error::usage("--tls-key needs --tls-cert")),
        };
        let fp = fingerprint(chain[0].as_ref());
        let provider = provider();
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .context("cannot set up TLS")?;
        let builder = match &self.client_ca {
            Some(ca) => {
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots_from(ca)?),
                    provider,
                )
                .build()
                .context("cannot use the --tls-ca certificates")?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder
            .with_single_cert(chain, key)
            .context("the certificate and key do not go together")?;
        config.alpn_protocols = self.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        Ok(TlsServer {
            config: Arc::new(config),
            fingerprint: fp,
            self_signed,
        })
    }
}

/// A self-signed ECDSA P-256 certificate for `localhost`, the loopback
/// addresses and `names`, valid from a day ago for 30 days.
pub fn self_signed_cert(
    names: &[String],
) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>)> {
    let mut sans = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    for n in names {
        if !n.is_empty() && !sans.contains(n) {
            sans.push(n.clone());
        }
    }
    let key = rcgen::KeyPair::generate().context("cannot make a key")?;
    let mut params = rcgen::CertificateParams::new(sans).context("bad certificate name")?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "netkit self-signed");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    params.not_before = epoch + now.saturating_sub(Duration::from_secs(86_400));
    params.not_after = epoch + now + Duration::from_secs(30 * 86_400);
    let cert = params
        .self_signed(&key)
        .context("cannot make a certificate")?;
    let key_der = PrivateKeyDer::try_from(key.serialize_der())
        .map_err(|e| anyhow!("cannot encode the key: {e}"))?;
    Ok((cert.der().clone(), key_der))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_parse_in_every_spelling() {
        let fp = fingerprint(b"hello");
        let bytes = parse_pin(&fp).unwrap();
        assert_eq!(
            parse_pin(&fp.replace(':', "").to_lowercase()).unwrap(),
            bytes
        );
        assert_eq!(parse_pin(&format!("sha256:{fp}")).unwrap(), bytes);
        for bad in ["", "AB:CD", &"G".repeat(64), &"A".repeat(63)] {
            assert!(parse_pin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fingerprints_look_like_openssls() {
        let fp = fingerprint(b"");
        assert_eq!(fp.len(), 95);
        assert!(fp.starts_with("E3:B0:C4:42"), "{fp}");
    }

    #[test]
    fn alpn_lists() {
        assert_eq!(parse_alpn("h2, http/1.1").unwrap(), ["h2", "http/1.1"]);
        assert!(parse_alpn(",").is_err());
    }

    #[test]
    fn a_generated_certificate_serves() {
        let s = TlsServerOptions::default()
            .build(&["example.test".into()])
            .unwrap();
        assert!(s.self_signed);
        assert_eq!(s.fingerprint.len(), 95);
    }
}
