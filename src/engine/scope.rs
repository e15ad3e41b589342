//! Scope: which route signs a request and for which service and region.

use std::borrow::Cow;
use std::time::Duration;

use crate::config::{SigningOverride, DEFAULT_SERVICE};
use crate::engine::endpoints;
use crate::engine::route::{validate_scope, Resolved, RouteTable};
use crate::engine::sign::ServiceProfile;
use crate::error::{Error, InvalidSetting};

/// Where and how one request is signed: its route resolved and its scope decided.
///
/// Its strings are borrowed from the route table, the defaults and the per-request override
/// wherever they can be: a plan lives as long as one request, and only a summary that
/// outlives it (a response's [`SignedRequest`](crate::SignedRequest)) copies them.
pub(crate) struct Plan<'a> {
    pub(crate) resolved: Resolved<'a>,
    pub(crate) service: Cow<'a, str>,
    /// `None` when nothing configured names one: the adapter asks the default chain.
    pub(crate) region: Option<Cow<'a, str>>,
    pub(crate) unsigned_payload: bool,
    /// Sign in the query for this long, whatever the route says (presigning).
    pub(crate) presign: Option<Duration>,
}

/// The defaults a route falls back on when neither it nor its host names a scope.
#[derive(Debug, Default)]
pub(crate) struct Defaults {
    pub(crate) service: Option<String>,
    pub(crate) region: Option<String>,
}

/// The route and scope for `url`; `None` when no route matches (the request is then sent
/// unsigned). Precedence: the per-request override, the route, the signing host's name,
/// the builder's default, and [`DEFAULT_SERVICE`] for a host that is not AWS's: an AWS host
/// whose service nothing names is an error, never signed for a guessed service.
pub(crate) fn plan<'a>(
    routes: &'a RouteTable,
    defaults: &'a Defaults,
    url: &url::Url,
    overrides: Option<&'a SigningOverride>,
) -> Result<Option<Plan<'a>>, Error> {
    let Some((resolved, inferred)) = routes.resolve(url)? else {
        return Ok(None);
    };
    if let Some(o) = overrides {
        for (what, value) in [("service", &o.service), ("region", &o.region)] {
            if let Some(v) = value {
                validate_scope(what, v)?;
            }
        }
    }
    let route = resolved.route;
    let configured = overrides
        .and_then(|o| o.service.as_deref())
        .or(route.service.as_deref());
    let service: Cow<'a, str> = match (configured, &inferred) {
        (Some(s), _) => Cow::Borrowed(s),
        (None, Some((s, _))) => Cow::Borrowed(endpoints::signing_name_for_path(
            s,
            signed_path(&resolved, url),
        )),
        (None, None) => match defaults.service.as_deref() {
            Some(s) => Cow::Borrowed(s),
            // An AWS host the tables do not know: a guessed service would only earn a 403.
            None if endpoints::is_aws_host(&resolved.sign_host) => {
                return Err(InvalidSetting::UnknownAwsService {
                    host: resolved.sign_host.into_owned(),
                }
                .into())
            }
            None => Cow::Borrowed(DEFAULT_SERVICE),
        },
    };
    let configured = overrides
        .and_then(|o| o.region.as_deref())
        .or(route.region_set.as_deref())
        .or(route.region.as_deref());
    let region: Option<Cow<'a, str>> = match (configured, inferred, &defaults.region) {
        (Some(r), _, _) => Some(Cow::Borrowed(r)),
        (None, Some((_, r)), _) => Some(r),
        (None, None, Some(r)) => Some(Cow::Borrowed(r)),
        (None, None, None) => None,
    };
    let profile = ServiceProfile::of(&service);
    // A route signed in the query to S3 signs UNSIGNED-PAYLOAD: hashing (and buffering)
    // its bodies would be wasted work.
    let unsigned_payload = route.unsigned_payload.unwrap_or(
        profile.unsigned_payload || (route.presign.is_some() && profile.presigned_unsigned_payload),
    );
    Ok(Some(Plan {
        resolved,
        service,
        region,
        unsigned_payload,
        presign: None,
    }))
}

/// The path the request is signed with (the route's, for a CloudFront alias), without its
/// query.
fn signed_path<'u>(resolved: &'u Resolved<'_>, url: &'u url::Url) -> &'u str {
    match &resolved.sign_path_and_query {
        Some(owned) => owned.split('?').next().unwrap_or(owned),
        None => url.path(),
    }
}
