//! Service and region inferred from AWS hosts, with no `.service(..)` / `.region(..)`: every
//! row of AWS's endpoint metadata where the signing name differs from the host prefix, every
//! global endpoint, and every host shape (data planes, dual-stack, FIPS, China, GovCloud,
//! legacy S3, VPC endpoints). Each inferred scope is signed for and checked by the
//! independent verifier.
//!
//! The tables below were taken from botocore 1.43.67 (github.com/boto/botocore, the data of
//! commit `0e6e2404b85dc336dd2889814e089bde7d1a4c55`, `botocore/data/endpoints.json` and
//! `botocore/data/*/*/service-2.json`), independently of the crate's own table.

mod support;

use std::time::Duration;

use bytes::Bytes;
use reqwest_sigv4::verify::wiremock::signed_by;
use reqwest_sigv4::verify::{ReceivedRequest, Verifier};
use reqwest_sigv4::{ConfigError, Error, ErrorKind, Route, SigV4Middleware};
use support::example_credentials;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// What the builder falls back to: a scope that no inference produces.
const FALLBACK_SERVICE: &str = "fallback-service";
const FALLBACK_REGION: &str = "fallback-region-9";

/// The service and region a direct route to `host` signs for, read from a presigned URL
/// that the independent verifier accepts for that scope.
async fn scope_of(host: &str) -> (String, String) {
    let signer = SigV4Middleware::builder()
        .route(Route::direct(format!("https://{host}")))
        .service(FALLBACK_SERVICE)
        .region(FALLBACK_REGION)
        .static_credentials(example_credentials())
        .build()
        .expect("valid config");
    presigned_scope(&signer, host, "/")
        .await
        .unwrap_or_else(|e| panic!("{host}: {e}"))
}

/// The service and region `signer` presigns `https://{host}{path}` for, read from the
/// presigned URL, which the independent verifier must accept for that scope.
async fn presigned_scope(
    signer: &SigV4Middleware,
    host: &str,
    path: &str,
) -> Result<(String, String), reqwest_sigv4::Error> {
    let url = format!("https://{host}{path}").parse().expect("URL");
    let request = reqwest::Request::new(reqwest::Method::GET, url);
    let presigned = signer.presign(&request, Duration::from_secs(60)).await?;
    let credential = presigned
        .query_pairs()
        .find(|(k, _)| k == "X-Amz-Credential")
        .map(|(_, v)| v.into_owned())
        .expect("X-Amz-Credential");
    // AKID/date/region/service/aws4_request
    let scope: Vec<&str> = credential.split('/').collect();
    let (region, service) = (scope[2], scope[3]);
    let target = &presigned[url::Position::BeforePath..];
    let mut headers = vec![("host".to_owned(), host.to_owned())];
    // VPC Lattice takes no payload hash: the crate signs UNSIGNED-PAYLOAD for it, which the
    // verifier reads from this header.
    let unsigned = service == "vpc-lattice-svcs";
    if unsigned {
        headers.push((
            "x-amz-content-sha256".to_owned(),
            "UNSIGNED-PAYLOAD".to_owned(),
        ));
    }
    let received = ReceivedRequest::new("GET", target, headers, Bytes::new());
    Verifier::new(example_credentials())
        .service(service)
        .region(region)
        .allow_unsigned_payload(unsigned)
        .verify(&received)
        .unwrap_or_else(|r| panic!("{host}: signed for {service}/{region} but {r}"));
    Ok((service.to_owned(), region.to_owned()))
}

/// Checks every `(host, service, region)`; reports all failures at once.
async fn assert_scopes(cases: &[(&str, &str, &str)]) {
    let mut wrong = Vec::new();
    for (host, service, region) in cases {
        let got = scope_of(host).await;
        if (got.0.as_str(), got.1.as_str()) != (*service, *region) {
            wrong.push(format!("{host}: got {got:?}, want ({service}, {region})"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every host prefix whose signing name differs from it, as botocore has them
/// (`service-2.json` `endpointPrefix` → `signingName`; `endpoints.json` `credentialScope`
/// services and the prefixes of its explicit and variant hostnames), each in a regional
/// host. Data planes botocore does not describe are in `data_planes_and_regional_services`.
const RENAMED: &[(&str, &str)] = &[
    ("a2i-runtime.sagemaker", "sagemaker"),
    ("admin.wickr", "wickr"),
    ("agent-registry-control", "agent-registry"),
    ("agreement-marketplace", "aws-marketplace"),
    ("aos", "es"),
    ("api.detective", "detective"),
    ("api.ecr", "ecr"),
    ("api.ecr-public", "ecr-public"),
    ("api.iot-tunneling", "IoTSecuredTunneling"),
    ("api.iotdeviceadvisor", "iotdeviceadvisor"),
    ("api.iotmanagedintegrations", "iotmanagedintegrations"),
    ("api.iottwinmaker", "iottwinmaker"),
    ("api.iotwireless", "iotwireless"),
    ("api.mediatailor", "mediatailor"),
    ("api.pricing", "pricing"),
    ("api.sagemaker", "sagemaker"),
    ("api.tunneling.iot", "IoTSecuredTunneling"),
    ("appconfigdata", "appconfig"),
    ("appstream2", "appstream"),
    ("bedrock-agent", "bedrock"),
    ("bedrock-agent-runtime", "bedrock"),
    ("bedrock-agentcore-control", "bedrock-agentcore"),
    ("bedrock-data-automation", "bedrock"),
    ("bedrock-data-automation-runtime", "bedrock"),
    ("bedrock-runtime", "bedrock"),
    ("cassandra-streams", "cassandra"),
    ("catalog.marketplace", "aws-marketplace"),
    ("cloudhsmv2", "cloudhsm"),
    ("cloudsearchdomain", "cloudsearch"),
    ("cn.transcribe", "transcribe"),
    ("contact-lens", "connect"),
    ("controlplane.payment-cryptography", "payment-cryptography"),
    ("data-ats.iot", "iotdata"),
    ("data-signer", "signer"),
    ("data.ats.iot", "iotdata"),
    ("data.iot", "iotdata"),
    ("data.iottwinmaker", "iottwinmaker"),
    ("data.jobs.iot", "iot-jobs-data"),
    ("data.mediastore", "mediastore"),
    ("data.qapps", "qapps"),
    ("dataplane.payment-cryptography", "payment-cryptography"),
    ("deployment-marketplace", "aws-marketplace"),
    ("discovery-marketplace", "aws-marketplace"),
    ("edge.sagemaker", "sagemaker"),
    ("email", "ses"),
    ("entitlement-marketplace", "aws-marketplace"),
    ("entitlement.marketplace", "aws-marketplace"),
    ("featurestore-runtime.sagemaker", "sagemaker"),
    ("forecastquery", "forecast"),
    ("greengrass-ats.iot", "greengrass"),
    ("identity-chime", "chime"),
    ("ingest.timestream", "timestream"),
    ("ivsrealtime", "ivs"),
    ("job-runtime.sagemaker", "sagemaker"),
    ("mail-manager", "ses"),
    ("media-pipelines-chime", "chime"),
    ("meetings-chime", "chime"),
    ("memory-db", "memorydb"),
    ("messaging-chime", "chime"),
    ("metering-marketplace", "aws-marketplace"),
    ("metering.marketplace", "aws-marketplace"),
    ("metrics.sagemaker", "sagemaker"),
    ("migrationhub-config", "mgh"),
    ("models-v2-lex", "lex"),
    ("models.lex", "lex"),
    ("mturk-requester-sandbox", "mturk-requester"),
    ("oidc", "sso-oauth"),
    ("participant.connect", "execute-api"),
    ("partnercentral-prm", "partnercentral"),
    ("personalize-events", "personalize"),
    ("personalize-runtime", "personalize"),
    ("pinpoint", "mobiletargeting"),
    ("portal.sso", "awsssoportal"),
    ("query.timestream", "timestream"),
    ("reporting-marketplace", "aws-marketplace"),
    ("runtime-v2-lex", "lex"),
    ("runtime.lex", "lex"),
    ("runtime.sagemaker", "sagemaker"),
    ("s3-control", "s3"),
    ("servicecatalog-appregistry", "servicecatalog"),
    ("sms-voice.pinpoint", "sms-voice"),
    ("streams.dynamodb", "dynamodb"),
    ("verification.signer", "signer"),
    ("voice-chime", "chime"),
];

/// Every endpoint whose scope region is not in its host name (endpoints.json
/// `partitionEndpoint`s and explicit hostnames with a `credentialScope` region).
const GLOBAL: &[(&str, &str, &str)] = &[
    ("budgets.amazonaws.com", "budgets", "us-east-1"),
    ("budgets.amazonaws.com.cn", "budgets", "cn-northwest-1"),
    ("budgets.c2s.ic.gov", "budgets", "us-iso-east-1"),
    ("budgets.global.cloud.adc-e.uk", "budgets", "eu-isoe-west-1"),
    (
        "budgets.global.csp.hci.ic.gov",
        "budgets",
        "us-isof-south-1",
    ),
    ("budgets.global.sc2s.sgov.gov", "budgets", "us-isob-east-1"),
    ("cloudfront.amazonaws.com", "cloudfront", "us-east-1"),
    ("global.health.amazonaws.com", "health", "us-east-1"),
    ("global.health.amazonaws.com.cn", "health", "cn-northwest-1"),
    (
        "global.health.us-gov.amazonaws.com",
        "health",
        "us-gov-west-1",
    ),
    ("iam-fips.amazonaws.com", "iam", "us-east-1"),
    ("iam.amazonaws.com", "iam", "us-east-1"),
    ("iam.global.api.aws", "iam", "us-east-1"),
    ("iam.us-gov.amazonaws.com", "iam", "us-gov-west-1"),
    ("route53-fips.amazonaws.com", "route53", "us-east-1"),
    ("route53.amazonaws.com", "route53", "us-east-1"),
    ("route53.amazonaws.com.cn", "route53", "cn-northwest-1"),
    ("route53.c2s.ic.gov", "route53", "us-iso-east-1"),
    ("route53.cloud.adc-e.uk", "route53", "eu-isoe-west-1"),
    ("route53.csp.hci.ic.gov", "route53", "us-isof-south-1"),
    ("route53.sc2s.sgov.gov", "route53", "us-isob-east-1"),
    ("route53.us-gov.amazonaws.com", "route53", "us-gov-west-1"),
    ("s3-external-1.amazonaws.com", "s3", "us-east-1"),
    ("s3.amazonaws.com", "s3", "us-east-1"),
    ("savingsplans.amazonaws.com", "savingsplans", "us-east-1"),
    (
        "savingsplans.cloud.adc-e.uk",
        "savingsplans",
        "eu-isoe-west-1",
    ),
    (
        "savingsplans.csp.hci.ic.gov",
        "savingsplans",
        "us-isof-south-1",
    ),
    ("sts.amazonaws.com", "sts", "us-east-1"),
    ("waf-fips.amazonaws.com", "waf", "us-east-1"),
    ("waf.amazonaws.com", "waf", "us-east-1"),
];

#[tokio::test]
async fn every_renamed_prefix_signs_with_its_signing_name() {
    let hosts: Vec<String> = RENAMED
        .iter()
        .map(|(prefix, _)| format!("{prefix}.us-west-2.amazonaws.com"))
        .collect();
    let cases: Vec<(&str, &str, &str)> = RENAMED
        .iter()
        .zip(&hosts)
        .map(|((_, service), host)| (host.as_str(), *service, "us-west-2"))
        .collect();
    assert_scopes(&cases).await;
}

#[tokio::test]
async fn global_endpoints_sign_for_their_credential_scope_region() {
    assert_scopes(GLOBAL).await;
}

#[tokio::test]
async fn data_planes_and_regional_services() {
    assert_scopes(&[
        // AppSync GraphQL and real-time endpoints sign as `appsync`.
        (
            "abcdefghijklmnopqrstuvwxyz.appsync-api.eu-west-2.amazonaws.com",
            "appsync",
            "eu-west-2",
        ),
        (
            "abcdefghijklmnopqrstuvwxyz.appsync-realtime-api.eu-west-2.amazonaws.com",
            "appsync",
            "eu-west-2",
        ),
        // Aurora DSQL: cluster endpoints and the control plane.
        (
            "abcdefghijklmnopqrstuvwxyz.dsql.us-east-1.on.aws",
            "dsql",
            "us-east-1",
        ),
        ("dsql.us-east-2.api.aws", "dsql", "us-east-2"),
        ("dsql-fips.us-east-1.api.aws", "dsql", "us-east-1"),
        // Bedrock's runtimes sign as `bedrock`.
        (
            "bedrock-runtime.us-east-1.amazonaws.com",
            "bedrock",
            "us-east-1",
        ),
        (
            "bedrock-agent-runtime.eu-central-1.amazonaws.com",
            "bedrock",
            "eu-central-1",
        ),
        (
            "bedrock-runtime-fips.us-gov-west-1.amazonaws.com",
            "bedrock",
            "us-gov-west-1",
        ),
        ("sqs.ap-southeast-2.amazonaws.com", "sqs", "ap-southeast-2"),
        ("dynamodb.us-west-2.amazonaws.com", "dynamodb", "us-west-2"),
        (
            "streams.dynamodb.us-west-2.amazonaws.com",
            "dynamodb",
            "us-west-2",
        ),
        ("sts.eu-west-1.amazonaws.com", "sts", "eu-west-1"),
        ("email.eu-west-1.amazonaws.com", "ses", "eu-west-1"),
        (
            "runtime.sagemaker.us-east-1.amazonaws.com",
            "sagemaker",
            "us-east-1",
        ),
        (
            "data-ats.iot.us-east-1.amazonaws.com",
            "iotdata",
            "us-east-1",
        ),
        ("api.ecr.us-east-1.amazonaws.com", "ecr", "us-east-1"),
        // Unchanged shapes from before: API Gateway, function URLs, Lattice, OpenSearch.
        (
            "abc123.execute-api.eu-west-1.amazonaws.com",
            "execute-api",
            "eu-west-1",
        ),
        (
            "xyz.lambda-url.ap-southeast-2.on.aws",
            "lambda",
            "ap-southeast-2",
        ),
        (
            "svc-0123.7d67968.vpc-lattice-svcs.us-west-2.on.aws",
            "vpc-lattice-svcs",
            "us-west-2",
        ),
        (
            "search-logs-abc.eu-central-1.es.amazonaws.com",
            "es",
            "eu-central-1",
        ),
        ("abcdef.us-east-1.aoss.amazonaws.com", "aoss", "us-east-1"),
    ])
    .await;
}

#[tokio::test]
async fn dual_stack_fips_china_and_other_partitions() {
    assert_scopes(&[
        // Dual-stack (`api.aws`), FIPS, both.
        ("sqs.us-east-1.api.aws", "sqs", "us-east-1"),
        ("sqs-fips.us-east-1.amazonaws.com", "sqs", "us-east-1"),
        (
            "dynamodb-fips.us-gov-west-1.amazonaws.com",
            "dynamodb",
            "us-gov-west-1",
        ),
        ("lambda-fips.us-east-2.api.aws", "lambda", "us-east-2"),
        ("aos.eu-south-2.api.aws", "es", "eu-south-2"),
        // FIPS hostnames endpoints.json spells differently.
        (
            "runtime-fips.sagemaker.us-west-2.amazonaws.com",
            "sagemaker",
            "us-west-2",
        ),
        ("fips.batch.us-east-1.amazonaws.com", "batch", "us-east-1"),
        ("ecr-fips.us-east-2.amazonaws.com", "ecr", "us-east-2"),
        (
            "data.iot-fips.us-east-1.amazonaws.com",
            "iotdata",
            "us-east-1",
        ),
        (
            "api.tunneling.iot-fips.us-west-2.amazonaws.com",
            "IoTSecuredTunneling",
            "us-west-2",
        ),
        ("iam-fips.amazonaws.com", "iam", "us-east-1"),
        // China, and its dual-stack suffix.
        ("sqs.cn-north-1.amazonaws.com.cn", "sqs", "cn-north-1"),
        ("iam.cn-north-1.amazonaws.com.cn", "iam", "cn-north-1"),
        (
            "abc123.execute-api.cn-northwest-1.amazonaws.com.cn",
            "execute-api",
            "cn-northwest-1",
        ),
        (
            "sqs.cn-northwest-1.api.amazonwebservices.com.cn",
            "sqs",
            "cn-northwest-1",
        ),
        // Other partitions.
        ("sqs.us-iso-east-1.c2s.ic.gov", "sqs", "us-iso-east-1"),
        ("sqs.us-isob-east-1.sc2s.sgov.gov", "sqs", "us-isob-east-1"),
        ("sqs.eu-isoe-west-1.cloud.adc-e.uk", "sqs", "eu-isoe-west-1"),
        (
            "sqs.us-isof-south-1.csp.hci.ic.gov",
            "sqs",
            "us-isof-south-1",
        ),
        ("sqs.eusc-de-east-1.amazonaws.eu", "sqs", "eusc-de-east-1"),
        (
            "lambda.us-isof-east-1.api.aws.hci.ic.gov",
            "lambda",
            "us-isof-east-1",
        ),
        // Dual-stack suffixes only partitions.json names.
        ("sqs.us-iso-east-1.api.aws.ic.gov", "sqs", "us-iso-east-1"),
        ("sqs.us-isob-east-1.api.aws.scloud", "sqs", "us-isob-east-1"),
        // A port and a trailing dot change nothing.
        ("sqs.us-east-1.amazonaws.com:8443", "sqs", "us-east-1"),
        ("sqs.us-east-1.amazonaws.com.", "sqs", "us-east-1"),
    ])
    .await;
}

#[tokio::test]
async fn s3_hosts_old_and_new() {
    assert_scopes(&[
        // Global and legacy endpoints (us-east-1), the dash form of older regions.
        ("s3.amazonaws.com", "s3", "us-east-1"),
        ("my-bucket.s3.amazonaws.com", "s3", "us-east-1"),
        ("s3-external-1.amazonaws.com", "s3", "us-east-1"),
        ("my-bucket.s3-external-1.amazonaws.com", "s3", "us-east-1"),
        ("s3-us-west-2.amazonaws.com", "s3", "us-west-2"),
        ("my-bucket.s3-eu-west-1.amazonaws.com", "s3", "eu-west-1"),
        ("s3-fips-us-gov-west-1.amazonaws.com", "s3", "us-gov-west-1"),
        // Regional, dual-stack, FIPS (endpoint-rule-set-1.json's shapes).
        ("my-bucket.s3.us-east-2.amazonaws.com", "s3", "us-east-2"),
        ("s3.dualstack.eu-west-1.amazonaws.com", "s3", "eu-west-1"),
        (
            "my-bucket.s3.dualstack.eu-west-1.amazonaws.com",
            "s3",
            "eu-west-1",
        ),
        (
            "my-bucket.s3-fips.dualstack.us-east-1.amazonaws.com",
            "s3",
            "us-east-1",
        ),
        (
            "my-bucket.s3.cn-north-1.amazonaws.com.cn",
            "s3",
            "cn-north-1",
        ),
        // Access points, Object Lambda, Control, Express, Outposts.
        (
            "myap-123456789012.s3-accesspoint.us-west-2.amazonaws.com",
            "s3",
            "us-west-2",
        ),
        (
            "myap-123456789012.s3-accesspoint-fips.dualstack.us-west-2.amazonaws.com",
            "s3",
            "us-west-2",
        ),
        (
            "myol-123456789012.s3-object-lambda.us-west-2.amazonaws.com",
            "s3-object-lambda",
            "us-west-2",
        ),
        (
            "123456789012.s3-control.us-west-2.amazonaws.com",
            "s3",
            "us-west-2",
        ),
        (
            "s3express-control.us-west-2.amazonaws.com",
            "s3express",
            "us-west-2",
        ),
        (
            "bucket--usw2-az1--x-s3.s3express-usw2-az1.us-west-2.amazonaws.com",
            "s3express",
            "us-west-2",
        ),
        (
            "myap-123456789012.op-01ac5d28a6a232904.s3-outposts.us-west-2.amazonaws.com",
            "s3-outposts",
            "us-west-2",
        ),
    ])
    .await;
}

#[tokio::test]
async fn interface_vpc_endpoint_names() {
    assert_scopes(&[
        (
            "vpce-0123456789abcdef0-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com",
            "execute-api",
            "us-east-1",
        ),
        (
            "vpce-0123456789abcdef0-abcdefgh-us-east-1a.sqs.us-east-1.vpce.amazonaws.com",
            "sqs",
            "us-east-1",
        ),
        (
            "my-bucket.bucket.vpce-0123456789abcdef0-abcdefgh.s3.eu-west-1.vpce.amazonaws.com",
            "s3",
            "eu-west-1",
        ),
    ])
    .await;
}

/// Hosts the tables do not know sign for the builder's service and region when it names
/// them (an AWS host among them is then not refused: the builder named its service).
#[tokio::test]
async fn hosts_that_are_not_aws_endpoints_use_the_configured_fallback() {
    let fallback = (FALLBACK_SERVICE.to_owned(), FALLBACK_REGION.to_owned());
    for host in [
        "api.example.com",
        "execute-api.evil.example.com",
        "abc.execute-api.us-east-1.amazonaws.com.evil.example.com",
        "s3.amazonaws.com.evil.example.com",
        // No service has this prefix.
        "nosuchservice.us-east-1.amazonaws.com",
        // Only services whose hosts carry the caller's labels take labels in front.
        "someone.sqs.us-east-1.amazonaws.com",
        // Transfer Acceleration names no region.
        "my-bucket.s3-accelerate.amazonaws.com",
        // A region code must look like one.
        "sqs.useast1.amazonaws.com",
    ] {
        assert_eq!(scope_of(host).await, fallback, "{host}");
    }
}

/// A private REST API reached through an interface VPC endpoint's own DNS name: the request
/// is signed for that name (service and region inferred from it) and names the API in
/// `x-apigw-api-id`, the recipe AWS documents besides sending the execute-api `Host`.
#[tokio::test]
async fn private_api_through_a_vpc_endpoint_name_with_x_apigw_api_id() {
    let api_gateway = support::ApiGateway::builder()
        .rest_api("abc123", &["prod"])
        .start()
        .await;
    let vpce = "vpce-0123456789abcdef0-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com";
    let base = format!("http://{vpce}:{}", api_gateway.addr().port());
    let signer = SigV4Middleware::builder()
        .route(Route::direct(&base))
        .service(FALLBACK_SERVICE)
        .region(FALLBACK_REGION)
        .static_credentials(example_credentials())
        .build()
        .expect("valid config");
    let resolves = [(vpce, api_gateway.addr())];

    // The header on the request: signed along with the rest.
    let client = reqwest_middleware::ClientBuilder::new(support::client_for(&resolves))
        .with(signer.clone())
        .build();
    let response = client
        .get(format!("{base}/prod/items?limit=2"))
        .header("x-apigw-api-id", "abc123")
        .send()
        .await
        .expect("sent");
    let echo = support::Echo::from_response(response).await;
    assert_eq!(
        (echo.api_id.as_str(), echo.stage.as_str()),
        ("abc123", "prod")
    );
    assert_eq!(echo.resource_path, "/items");
    assert_eq!(
        support::strip_port(&echo.host),
        vpce,
        "the Host stays the endpoint's"
    );
    let authorization = echo.header("authorization").expect("signed");
    assert!(
        authorization.contains("/us-east-1/execute-api/aws4_request"),
        "{authorization}"
    );
    assert!(authorization.contains("x-apigw-api-id"), "{authorization}");

    // The header as a client default (added by reqwest after the middleware, so unsigned):
    // API Gateway routes on it all the same.
    let mut defaults = reqwest::header::HeaderMap::new();
    defaults.insert("x-apigw-api-id", "abc123".parse().unwrap());
    let http = support::client_builder_for(&resolves)
        .default_headers(defaults)
        .build()
        .unwrap();
    let client = reqwest_middleware::ClientBuilder::new(http)
        .with(signer.clone())
        .build();
    let response = client
        .get(format!("{base}/prod/items"))
        .send()
        .await
        .expect("sent");
    let echo = support::Echo::from_response(response).await;
    assert_eq!(echo.api_id, "abc123");

    // Without the header API Gateway cannot tell which private API is meant: a bare
    // Forbidden, which the explanation ties to the recipe.
    let client = reqwest_middleware::ClientBuilder::new(support::client_for(&resolves))
        .with(signer)
        .build();
    let response = client
        .get(format!("{base}/prod/items"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 403);
    let explanation = response
        .extensions()
        .get::<reqwest_sigv4::Explanation>()
        .cloned()
        .expect("explained");
    assert_eq!(explanation.cause, reqwest_sigv4::Cause::Forbidden);
    assert!(
        explanation.summary.contains("x-apigw-api-id"),
        "{}",
        explanation.summary
    );
    // The endpoint's name is no API id to put in a policy.
    assert_eq!(explanation.suggestion, None);
}

/// IoT Core's account-specific data endpoint (what `describe-endpoint --endpoint-type
/// iot:Data-ATS` returns) signs as `iotdata` over HTTPS; MQTT over WebSocket on it, a
/// `wss://{endpoint}/mqtt` URL presigned in its `https://` form, as `iotdevicegateway`.
#[tokio::test]
async fn iot_account_endpoints_sign_as_iotdata_and_mqtt_over_websocket_as_iotdevicegateway() {
    assert_scopes(&[
        (
            "a1b2c3d4e5f6g7-ats.iot.us-east-1.amazonaws.com",
            "iotdata",
            "us-east-1",
        ),
        // The legacy (VeriSign) form and China's ATS form.
        (
            "a1b2c3d4e5f6g7.iot.eu-west-1.amazonaws.com",
            "iotdata",
            "eu-west-1",
        ),
        (
            "a1b2c3d4e5f6g7.ats.iot.cn-north-1.amazonaws.com.cn",
            "iotdata",
            "cn-north-1",
        ),
    ])
    .await;
    for host in [
        "a1b2c3d4e5f6g7-ats.iot.us-east-1.amazonaws.com",
        "data-ats.iot.us-east-1.amazonaws.com",
    ] {
        // Nothing but the host names the scope.
        let signer = SigV4Middleware::builder()
            .route(Route::direct(format!("https://{host}")))
            .static_credentials(example_credentials())
            .build()
            .expect("valid config");
        let scope = |service: &str| (service.to_owned(), "us-east-1".to_owned());
        assert_eq!(
            presigned_scope(&signer, host, "/mqtt").await.unwrap(),
            scope("iotdevicegateway"),
            "{host}"
        );
        for path in ["/topics/sensors%2Fa", "/things/t1/shadow", "/mqtt/x"] {
            assert_eq!(
                presigned_scope(&signer, host, path).await.unwrap(),
                scope("iotdata"),
                "{host}{path}"
            );
        }
    }
}

/// An AWS host the tables do not know is never signed for a guessed service: a route that
/// signs one and names no service (nor does the builder) is refused by `build()`, with the
/// host in the message and the setter that fixes it.
#[test]
fn a_route_to_an_unknown_aws_host_without_a_service_is_refused_at_build() {
    for (route, host) in [
        (
            Route::direct("https://nosuchservice.us-east-1.amazonaws.com"),
            "nosuchservice.us-east-1.amazonaws.com",
        ),
        // IoT's credentials provider is no SigV4 data endpoint.
        (
            Route::direct("https://a1b2c3d4e5f6g7.credentials.iot.us-east-1.amazonaws.com"),
            "a1b2c3d4e5f6g7.credentials.iot.us-east-1.amazonaws.com",
        ),
        (
            Route::direct("https://svc.eu-west-1.on.aws").region("eu-west-1"),
            "svc.eu-west-1.on.aws",
        ),
        (
            Route::host_override(
                "http://127.0.0.1:8080",
                "nosuchservice.us-east-1.amazonaws.com",
            ),
            "nosuchservice.us-east-1.amazonaws.com",
        ),
        (
            Route::cloudfront(
                "https://www.example.com",
                "https://my-alb-1234.eu-west-1.elb.amazonaws.com/prod",
            ),
            "my-alb-1234.eu-west-1.elb.amazonaws.com",
        ),
    ] {
        let err = SigV4Middleware::builder()
            .route(route)
            .static_credentials(example_credentials())
            .build()
            .expect_err(host);
        assert!(
            matches!(&err, ConfigError::UnknownAwsService { host: h } if h == host),
            "{host}: {err:?}"
        );
        assert_eq!(err.kind(), ErrorKind::Configuration);
        let message = err.to_string();
        assert!(message.contains(&format!("{host:?}")), "{message}");
        assert!(message.contains("Route::service"), "{message}");
    }
}

/// A service named on the route, or as the builder's default, is what an unknown AWS host
/// is signed for (checked by the independent verifier where the request arrives).
#[tokio::test]
async fn an_unknown_aws_host_signs_for_the_service_named() {
    let host = "nosuchservice.us-east-1.amazonaws.com";
    let server = MockServer::start().await;
    let verifier = Verifier::new(example_credentials())
        .service("x")
        .region("us-east-1");
    Mock::given(signed_by(verifier))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(403))
        .mount(&server)
        .await;
    // The host names no region either.
    let named_on_the_route = SigV4Middleware::builder()
        .route(
            Route::host_override(server.uri(), host)
                .service("x")
                .region("us-east-1"),
        )
        .static_credentials(example_credentials());
    let named_on_the_builder = SigV4Middleware::builder()
        .route(Route::host_override(server.uri(), host))
        .service("x")
        .region("us-east-1")
        .static_credentials(example_credentials());
    for builder in [named_on_the_route, named_on_the_builder] {
        let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(builder.build().expect("a service is named"))
            .build();
        let response = client
            .get(format!("{}/items", server.uri()))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 200, "signed for x in us-east-1");
    }
}

/// Under a wildcard route the host is read per request: one the tables do not know, with no
/// service named, fails with `Error::UnknownAwsService` and nothing is sent (nor presigned);
/// a known one under the same route is signed for its own service; naming a service on the
/// route signs the unknown one for it.
#[tokio::test]
async fn an_unknown_aws_host_under_a_wildcard_route_is_refused_per_request_and_not_sent() {
    let server = MockServer::start().await;
    let port = server.address().port();
    let suffix = "eu-isoe-west-1.cloud.adc-e.uk";
    let (unknown, known) = (format!("nosuchservice.{suffix}"), format!("sqs.{suffix}"));
    let addr = *server.address();
    let http = support::client_for(&[(unknown.as_str(), addr), (known.as_str(), addr)]);
    let signer = |route: Route| {
        SigV4Middleware::builder()
            .route(route)
            .static_credentials(example_credentials())
            .build()
            .expect("a wildcard route's hosts are read per request")
    };
    let wildcard = format!("http://*.{suffix}:{port}");
    let refusing = signer(Route::direct(&wildcard));
    let client = reqwest_middleware::ClientBuilder::new(http.clone())
        .with(refusing.clone())
        .build();

    let err = client
        .get(format!("http://{unknown}:{port}/items"))
        .send()
        .await
        .expect_err("refused");
    match Error::from_middleware(&err) {
        Some(Error::UnknownAwsService { host }) => {
            assert_eq!(host, &format!("{unknown}:{port}"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        Error::from_middleware(&err).map(Error::kind),
        Some(ErrorKind::Configuration)
    );
    let request = reqwest::Request::new(
        reqwest::Method::GET,
        format!("http://{unknown}:{port}/items").parse().unwrap(),
    );
    assert!(matches!(
        refusing.presign(&request, Duration::from_secs(60)).await,
        Err(Error::UnknownAwsService { .. })
    ));
    let received = server.received_requests().await.expect("recording");
    assert!(received.is_empty(), "nothing sent: {received:?}");

    Mock::given(signed_by(
        Verifier::new(example_credentials())
            .service("sqs")
            .region("eu-isoe-west-1"),
    ))
    .respond_with(ResponseTemplate::new(200))
    .mount(&server)
    .await;
    Mock::given(signed_by(
        Verifier::new(example_credentials())
            .service("x")
            .region("eu-west-2"),
    ))
    .respond_with(ResponseTemplate::new(201))
    .mount(&server)
    .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(403))
        .mount(&server)
        .await;
    let response = client
        .get(format!("http://{known}:{port}/"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200, "signed for sqs in eu-isoe-west-1");

    let named = signer(Route::direct(&wildcard).service("x").region("eu-west-2"));
    let client = reqwest_middleware::ClientBuilder::new(http)
        .with(named)
        .build();
    let response = client
        .get(format!("http://{unknown}:{port}/items"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 201, "signed for x in eu-west-2");
}

/// Hosts that are not AWS endpoints (a custom domain, a CloudFront alias, a local server)
/// keep the documented default service, `execute-api`.
#[tokio::test]
async fn hosts_that_are_not_aws_endpoints_sign_for_execute_api_by_default() {
    for (route, host) in [
        (
            Route::custom_domain("https://api.example.com").region("eu-west-1"),
            "api.example.com",
        ),
        (
            Route::direct("https://d111111abcdef8.cloudfront.net").region("eu-west-1"),
            "d111111abcdef8.cloudfront.net",
        ),
        (
            Route::direct("https://localhost").region("eu-west-1"),
            "localhost",
        ),
        (
            Route::direct("https://127.0.0.1").region("eu-west-1"),
            "127.0.0.1",
        ),
    ] {
        let signer = SigV4Middleware::builder()
            .route(route)
            .static_credentials(example_credentials())
            .build()
            .expect("valid config");
        assert_eq!(
            presigned_scope(&signer, host, "/").await.unwrap(),
            (
                reqwest_sigv4::DEFAULT_SERVICE.to_owned(),
                "eu-west-1".to_owned()
            ),
            "{host}"
        );
        assert_eq!(reqwest_sigv4::DEFAULT_SERVICE, "execute-api");
    }
}
