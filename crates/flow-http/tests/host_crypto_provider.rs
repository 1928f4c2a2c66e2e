//! A host that installed its own rustls cryptography before building a client keeps it: the
//! client neither replaces it nor fails. This runs in a process of its own, since the provider
//! is process-wide.

use flow_http::{Client, ClientConfig};
use rustls::crypto::CryptoProvider;

#[test]
fn a_crypto_provider_the_host_installed_is_kept() {
    let mut host = rustls::crypto::ring::default_provider();
    host.cipher_suites.truncate(1);
    let only_suite = host.cipher_suites[0].suite();
    host.install_default()
        .expect("no provider is installed yet in this process");

    Client::new(ClientConfig::default()).expect("a client over the host's provider");

    let installed = CryptoProvider::get_default().expect("a provider is installed");
    let suites: Vec<_> = installed
        .cipher_suites
        .iter()
        .map(|suite| suite.suite())
        .collect();
    assert_eq!(suites, [only_suite], "the host's provider was replaced");
}
