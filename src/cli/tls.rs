//! TLS options, shared by the subcommands that speak it: a server's
//! (`serve`, `kv serve`) and a client's (`connect`, `bench`, `serve
//! --forward-tls`), and their conversion into `transport::tlsconfig` options.
//! Any `--tls-*` option implies `--tls`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::error;
use crate::transport::tlsconfig::{self, TlsClient, TlsClientOptions, TlsServer, TlsServerOptions};

/// A server's TLS options.
#[derive(Debug, Args, Default, Clone)]
pub struct TlsServerArgs {
    /// Speak TLS. Without --tls-cert a self-signed certificate is made at start and its SHA-256 is printed on the listening line (for `connect --tls --tls-pin`).
    #[arg(long, help_heading = "TLS")]
    pub tls: bool,
    /// Certificate chain to present (PEM); implies --tls.
    #[arg(long, value_name = "FILE", help_heading = "TLS")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM) [default: the key inside the --tls-cert file].
    #[arg(long, value_name = "FILE", requires = "tls_cert", help_heading = "TLS")]
    pub tls_key: Option<PathBuf>,
    /// Require client certificates signed by a CA in FILE (PEM); implies --tls.
    #[arg(long = "tls-ca", value_name = "FILE", help_heading = "TLS")]
    pub tls_client_ca: Option<PathBuf>,
    /// ALPN protocols to agree to, in order of preference (e.g. h2,http/1.1); implies --tls.
    #[arg(long, value_name = "LIST", value_parser = tlsconfig::parse_alpn, help_heading = "TLS")]
    pub tls_alpn: Option<Alpn>,
}

/// A parsed `--tls-alpn` list (a newtype so clap takes it as one value).
pub type Alpn = Vec<String>;

impl TlsServerArgs {
    /// True when TLS was asked for, directly or by another `--tls-*` option.
    pub fn wanted(&self) -> bool {
        self.tls
            || self.tls_cert.is_some()
            || self.tls_client_ca.is_some()
            || self.tls_alpn.is_some()
    }

    /// Load or make the server's certificate (`names` go into a generated one).
    pub fn build(&self, names: &[String]) -> Result<Option<TlsServer>> {
        if !self.wanted() {
            return Ok(None);
        }
        TlsServerOptions {
            cert: self.tls_cert.clone(),
            key: self.tls_key.clone(),
            client_ca: self.tls_client_ca.clone(),
            alpn: self.tls_alpn.clone().unwrap_or_default(),
        }
        .build(names)
        .map(Some)
    }
}

/// A client's TLS options.
#[derive(Debug, Args, Default, Clone)]
pub struct TlsClientArgs {
    /// Speak TLS, verifying the server against the system's CAs (or --tls-ca, --tls-pin).
    #[arg(long, help_heading = "TLS")]
    pub tls: bool,
    /// Trust the CAs in FILE (PEM) instead of the system's; implies --tls.
    #[arg(long, value_name = "FILE", help_heading = "TLS", conflicts_with_all = ["tls_insecure", "tls_pin"])]
    pub tls_ca: Option<PathBuf>,
    /// Accept any certificate (no verification at all); implies --tls.
    #[arg(long, help_heading = "TLS", conflicts_with = "tls_pin")]
    pub tls_insecure: bool,
    /// Trust exactly the certificate with this SHA-256 (as on netkit's listening line, or `openssl x509 -fingerprint -sha256`); implies --tls.
    #[arg(long, value_name = "SHA256", value_parser = tlsconfig::parse_pin, help_heading = "TLS")]
    pub tls_pin: Option<[u8; 32]>,
    /// Server name to send (SNI) and to check the certificate against [default: the host]; implies --tls.
    #[arg(long, value_name = "NAME", help_heading = "TLS")]
    pub tls_sni: Option<String>,
    /// ALPN protocols to offer (e.g. h2,http/1.1); implies --tls.
    #[arg(long, value_name = "LIST", value_parser = tlsconfig::parse_alpn, help_heading = "TLS")]
    pub tls_alpn: Option<Alpn>,
    /// Client certificate chain (PEM), for servers that ask for one; implies --tls.
    #[arg(long, value_name = "FILE", requires = "tls_key", help_heading = "TLS")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert", help_heading = "TLS")]
    pub tls_key: Option<PathBuf>,
}

impl TlsClientArgs {
    /// True when TLS was asked for, directly or by another `--tls-*` option.
    pub fn wanted(&self) -> bool {
        self.tls
            || self.tls_ca.is_some()
            || self.tls_insecure
            || self.tls_pin.is_some()
            || self.tls_sni.is_some()
            || self.tls_alpn.is_some()
            || self.tls_cert.is_some()
    }

    /// The plain options (for a caller that completes them, as bench does).
    pub fn options(&self) -> TlsClientOptions {
        TlsClientOptions {
            ca: self.tls_ca.clone(),
            insecure: self.tls_insecure,
            pin: self.tls_pin,
            sni: self.tls_sni.clone(),
            alpn: self.tls_alpn.clone().unwrap_or_default(),
            cert: self.tls_cert.clone(),
            key: self.tls_key.clone(),
        }
    }

    /// The client configuration, when TLS is wanted.
    pub fn build(&self) -> Result<Option<TlsClient>> {
        if !self.wanted() {
            return Ok(None);
        }
        if let Some(sni) = &self.tls_sni
            && sni.trim().is_empty()
        {
            return Err(error::usage("--tls-sni needs a name"));
        }
        self.options().build().map(Some)
    }
}
