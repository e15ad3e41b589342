//! A wiremock matcher that matches only requests carrying a valid SigV4 signature, so a mock
//! server can stand in for API Gateway's `AWS_IAM` authorization in tests.

use std::sync::{Arc, Mutex};

use ::wiremock::{Match, Request};

use super::{ReceivedRequest, Rejection, Verifier};

/// Matches a request only if `Verifier::verify` accepts it.
///
/// The verifier's defaults are strict, as API Gateway is (the request's time within 5
/// minutes of the system clock, a session token covered by the signature), so a test whose
/// signer runs on a fixed clock sets the verifier's clock too ([`Verifier::now`]).
///
/// Clones share the record of the last rejection, so keep a clone to find out why a request
/// did not match ([`SignedBy::last_rejection`]).
///
/// ```
/// use aws_credential_types::Credentials;
/// use reqwest_sigv4::verify::{wiremock::SignedBy, Verifier};
/// use wiremock::{matchers::method, Mock, MockServer, ResponseTemplate};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let credentials = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
/// let signed = SignedBy::new(
///     Verifier::new(credentials)
///         .service("execute-api")
///         .region("eu-west-1"),
/// );
/// let server = MockServer::start().await;
/// Mock::given(method("GET"))
///     .and(signed.clone())
///     .respond_with(ResponseTemplate::new(200))
///     .mount(&server)
///     .await;
/// // Anything not validly signed falls through to wiremock's 404.
/// let response = reqwest::get(format!("{}/items", server.uri())).await.unwrap();
/// assert_eq!(response.status(), 404);
/// let why = signed.last_rejection().unwrap();
/// assert_eq!(why.api_gateway_message(), "Missing Authentication Token");
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct SignedBy {
    verifier: Verifier,
    last_rejection: Arc<Mutex<Option<Rejection>>>,
}

impl SignedBy {
    /// A matcher that lets through what `verifier` accepts.
    pub fn new(verifier: Verifier) -> Self {
        Self {
            verifier,
            last_rejection: Arc::new(Mutex::new(None)),
        }
    }

    /// The verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// Why the last refused request was refused (`None` if none was).
    pub fn last_rejection(&self) -> Option<Rejection> {
        match self.last_rejection.lock() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// Shorthand for [`SignedBy::new`].
pub fn signed_by(verifier: Verifier) -> SignedBy {
    SignedBy::new(verifier)
}

impl Match for SignedBy {
    fn matches(&self, request: &Request) -> bool {
        match self
            .verifier
            .verify(&ReceivedRequest::from_wiremock(request))
        {
            Ok(_) => true,
            Err(rejection) => {
                // A poisoned lock only means another matcher thread panicked mid-write; the
                // slot is still a plain Option, safe to overwrite.
                let mut slot = match self.last_rejection.lock() {
                    Ok(guard) => guard,
                    Err(poisoned) => poisoned.into_inner(),
                };
                *slot = Some(rejection);
                false
            }
        }
    }
}
