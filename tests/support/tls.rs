//! TLS for the stand-ins: a certificate authority made at test start (rcgen) and a server
//! certificate it issues for the names a test serves, offered with ALPN.
//!
//! Nothing is read from disk and nothing outlives the test: the client trusts the
//! authority's certificate ([`TestTls::ca_der`]) and nothing else.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

/// A fresh authority and the server certificate it issued; cheap to clone.
#[derive(Clone)]
pub struct TestTls {
    inner: Arc<Inner>,
}

struct Inner {
    ca: CertificateDer<'static>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl std::fmt::Debug for TestTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestTls")
    }
}

impl TestTls {
    /// Makes an authority and a server certificate for `names` (DNS names or IP addresses).
    pub fn new(names: &[&str]) -> TestTls {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "reqwest-sigv4 test CA");
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key"))
            .expect("self-signed CA");
        let server_key = KeyPair::generate().expect("server key");
        let server =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .expect("server certificate params")
                .signed_by(&server_key, &ca)
                .expect("server certificate");
        TestTls {
            inner: Arc::new(Inner {
                ca: ca.der().clone(),
                chain: vec![server.der().clone(), ca.der().clone()],
                key: PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
            }),
        }
    }

    /// The authority's certificate (DER), for the client's only root.
    pub fn ca_der(&self) -> &[u8] {
        &self.inner.ca
    }

    /// An acceptor offering `h2` then `http/1.1` by ALPN, or `http/1.1` alone.
    pub fn acceptor(&self, http2: bool) -> TlsAcceptor {
        // The provider named, not the process default: which providers the build turned on
        // is up to the other crates in it.
        let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(self.inner.chain.clone(), self.inner.key.clone_key())
            .expect("server certificate and key");
        config.alpn_protocols = if http2 {
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        } else {
            vec![b"http/1.1".to_vec()]
        };
        TlsAcceptor::from(Arc::new(config))
    }
}
