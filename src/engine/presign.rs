//! [`PresignedUrl`]: what [`SigV4Middleware::presign`](crate::SigV4Middleware::presign)
//! returns — the URL and how long it really works.

use std::fmt;
use std::ops::Deref;
use std::time::{Duration, SystemTime};

use url::Url;

/// A presigned URL and when it stops working.
///
/// The URL is a bearer credential: whoever holds it can make the request it was signed for
/// until it expires. So `Debug` shows where it points and when it expires, never its query
/// (signature, access key id, session token), there is no `Display`, and it is not `Clone`:
/// take the URL out deliberately with [`url`](Self::url), [`as_str`](Self::as_str) or
/// [`into_url`](Self::into_url). It dereferences to the [`Url`] for reading.
///
/// Signed with temporary credentials (a session token), the URL dies with the token, even
/// if `X-Amz-Expires` says later: [`expires_at`](Self::expires_at) is the earlier of the two,
/// and [`credentials_expire_first`](Self::credentials_expire_first) tells which it is.
pub struct PresignedUrl {
    url: Url,
    signed_at: SystemTime,
    valid_for: Duration,
    credentials_expiry: Option<SystemTime>,
    session_token: bool,
}

impl PresignedUrl {
    pub(crate) fn new(
        url: Url,
        signed_at: SystemTime,
        valid_for: Duration,
        credentials_expiry: Option<SystemTime>,
        session_token: bool,
    ) -> Self {
        Self {
            url,
            signed_at,
            // What `X-Amz-Expires` carries: whole seconds.
            valid_for: Duration::from_secs(valid_for.as_secs()),
            credentials_expiry,
            session_token,
        }
    }

    /// The URL (a secret: see the type's docs).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The URL as a string (a secret).
    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }

    /// The URL, owned (a secret).
    pub fn into_url(self) -> Url {
        self.url
    }

    /// The signing time (`X-Amz-Date`).
    pub fn signed_at(&self) -> SystemTime {
        self.signed_at
    }

    /// How long the signature is valid (`X-Amz-Expires`, whole seconds).
    pub fn valid_for(&self) -> Duration {
        self.valid_for
    }

    /// When the signature expires: signing time plus `X-Amz-Expires`.
    pub fn signature_expires_at(&self) -> SystemTime {
        self.signed_at
            .checked_add(self.valid_for)
            .unwrap_or(self.signed_at)
    }

    /// When the URL stops working: the signature's expiry, or the credentials' when they
    /// expire first (a session token's end ends every URL signed with it).
    pub fn expires_at(&self) -> SystemTime {
        match self.credentials_expiry {
            Some(end) => end.min(self.signature_expires_at()),
            None => self.signature_expires_at(),
        }
    }

    /// The credentials' expiry, when it comes before the signature's: the URL then dies
    /// early, with its credentials.
    pub fn credentials_expire_first(&self) -> Option<SystemTime> {
        self.credentials_expiry
            .filter(|end| *end < self.signature_expires_at())
    }

    /// Whether the URL carries a session token (temporary credentials): it then works only
    /// as long as that token, whatever its `X-Amz-Expires`.
    pub fn has_session_token(&self) -> bool {
        self.session_token
    }
}

impl Deref for PresignedUrl {
    type Target = Url;

    fn deref(&self) -> &Url {
        &self.url
    }
}

impl From<PresignedUrl> for Url {
    fn from(presigned: PresignedUrl) -> Url {
        presigned.url
    }
}

impl fmt::Debug for PresignedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresignedUrl")
            .field(
                "url",
                &format_args!(
                    "{}{}",
                    self.url.origin().ascii_serialization(),
                    self.url.path()
                ),
            )
            .field("query", &"<redacted>")
            .field("signed_at", &self.signed_at)
            .field("valid_for", &self.valid_for)
            .field("expires_at", &self.expires_at())
            .field("credentials_expire_first", &self.credentials_expire_first())
            .field("has_session_token", &self.session_token)
            .finish()
    }
}
