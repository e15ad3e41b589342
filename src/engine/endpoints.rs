//! Which service and region a host signs for, from AWS's own endpoint metadata, and
//! whether a host is an AWS host at all.
//!
//! The tables between `// BEGIN GENERATED` and `// END GENERATED` are generated from
//! botocore 1.43.67 by `scripts/endpoints/generate.py` (see `scripts/endpoints/README.md`);
//! they are not edited by hand. The script reads:
//! - `botocore/data/<service>/<version>/service-2.json`: each SigV4 service's
//!   `metadata.endpointPrefix` (the host prefix) and `metadata.signingName` (the credential
//!   scope's service, when it differs);
//! - `botocore/data/endpoints.json`: every hostname it spells out for an endpoint that takes
//!   SigV4, with its `credentialScope` (`data.iot` → `iotdata`): the prefixes of explicit
//!   hostnames (`ecr-fips`, `verification.signer`, `data.ats.iot`, `cn.transcribe`, …) and of
//!   dual-stack variants (`aos` for `es`, `api.iot-tunneling`, …); every endpoint whose host
//!   names no region, with the region its `credentialScope` names (`iam.amazonaws.com`,
//!   `iam.global.api.aws` → `us-east-1`); each partition's DNS suffixes (and
//!   `partitions.json`'s dual-stack ones);
//! - `botocore/data/s3/2006-03-01/endpoint-rule-set-1.json` and S3 Control's: the prefixes
//!   of S3's host shapes (access points, Object Lambda, Outposts, Express control) and their
//!   signing names.
//!
//! The rest is maintained by hand, from the services' guides, for what botocore does not
//! describe: Lambda function URLs (`{id}.lambda-url.{region}.on.aws`, `lambda`), AppSync
//! GraphQL and real-time endpoints (`{id}.appsync-api.{region}.amazonaws.com`, `appsync`),
//! VPC Lattice services (`….vpc-lattice-svcs.{region}.on.aws`), the `on.aws` and interface
//! VPC endpoint suffixes, Aurora DSQL clusters (`{id}.dsql.{region}.on.aws`), OpenSearch
//! domains and Serverless collections (`{domain}.{region}.es.amazonaws.com`,
//! `{id}.{region}.aoss.amazonaws.com`), IoT Core's account endpoints
//! (`{id}-ats.iot.{region}.amazonaws.com`, `iotdata`; `iotdevicegateway` for MQTT over
//! WebSocket, the path `/mqtt`), S3's legacy `s3-{region}` hosts and S3 Express buckets
//! (S3 user guide).

// ---- Maintained by hand: what botocore does not describe. ----

/// DNS suffixes of AWS hosts that are no partition's: interface VPC endpoints' names and
/// `on.aws` (function URLs, Lattice, DSQL). Tried before the partitions' suffixes, so that
/// `vpce.amazonaws.com` wins over `amazonaws.com`.
const OTHER_DNS_SUFFIXES: &[&str] = &["vpce.amazonaws.com", "on.aws"];

/// Data planes botocore does not describe: host prefix → signing name, sorted by prefix.
static DATA_PLANE_SIGNING_NAMES: &[(&str, &str)] = &[
    ("appsync-api", "appsync"),
    ("appsync-realtime-api", "appsync"),
    ("lambda-url", "lambda"),
    ("vpc-lattice-svcs", "vpc-lattice-svcs"),
];

/// Services whose hosts put the caller's own labels in front of the service's prefix (an API
/// id, a bucket, an access point, a cluster). Other services' hosts are only recognized
/// when the whole prefix is theirs: `x.sqs.us-east-1.amazonaws.com` is no SQS endpoint.
const CUSTOMER_PREFIXED: &[&str] = &[
    "appsync-api",
    "appsync-realtime-api",
    "dsql",
    "execute-api",
    "lambda-url",
    "s3",
    "s3-accesspoint",
    "s3-control",
    "s3-object-lambda",
    "s3-outposts",
    "vpc-lattice-svcs",
];

/// Account endpoints: exactly one label of the account's in front of the prefix, and the
/// name they sign for. IoT Core's data endpoint `{id}-ats.iot.{region}.amazonaws.com`
/// (and the legacy `{id}.iot.…`, and China's `{id}.ats.iot.{region}.amazonaws.com.cn`)
/// signs as `iotdata`, not as the control plane `iot`.
const ACCOUNT_PREFIXED: &[(&str, &str)] = &[("ats.iot", "iotdata"), ("iot", "iotdata")];

/// The path of MQTT over WebSocket on an IoT Core data endpoint: a request (a presigned
/// `wss://` URL, presigned in its `https://` form) to it signs as `iotdevicegateway`.
const IOT_MQTT_PATH: &str = "/mqtt";

/// The DNS suffixes an AWS host ends with, in the order they are tried.
fn dns_suffixes() -> impl Iterator<Item = &'static str> {
    OTHER_DNS_SUFFIXES
        .iter()
        .chain(PARTITION_DNS_SUFFIXES)
        .copied()
}

/// `host` without its `:port` and trailing dot.
fn bare(host: &str) -> &str {
    let host = host.split(':').next().unwrap_or(host);
    host.strip_suffix('.').unwrap_or(host)
}

/// Whether `host` (optionally with `:port`) is under one of AWS's DNS suffixes
/// (`amazonaws.com`, `amazonaws.com.cn`, `api.aws`, `on.aws`, …): an AWS endpoint, known to
/// the tables or not, rather than a custom domain, an alias, `localhost` or an address.
pub(crate) fn is_aws_host(host: &str) -> bool {
    let host = bare(host);
    dns_suffixes().any(|suffix| {
        host.strip_suffix(suffix)
            .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
    })
}

/// Service (signing name) and region that `host` (optionally with `:port`) signs for, or
/// `None` when it is not an AWS host this table knows. Runs per request for wildcard
/// routes: no allocation on the common path.
pub(crate) fn infer_scope(host: &str) -> Option<(&'static str, &str)> {
    let host = bare(host);
    if let Ok(i) = GLOBAL_HOSTS.binary_search_by(|(h, ..)| (*h).cmp(host)) {
        let (_, service, region) = GLOBAL_HOSTS[i];
        return Some((service, region));
    }
    let (rest, suffix) = dns_suffixes().find_map(|suffix| {
        let rest = host.strip_suffix(suffix)?.strip_suffix('.')?;
        Some((rest, suffix))
    })?;
    let Some((prefix, region)) = rest.rsplit_once('.').filter(|(_, r)| is_region(r)) else {
        return region_before_service(rest, suffix);
    };
    // Dual-stack S3 hosts carry a `dualstack` label between the prefix and the region.
    let prefix = prefix.strip_suffix(".dualstack").unwrap_or(prefix);
    // `vpce-0123-abcd.execute-api.us-east-1.vpce.amazonaws.com`: the endpoint's own labels
    // come first, the service's prefix after them.
    let prefix = if suffix == "vpce.amazonaws.com" {
        let start = prefix.rfind("vpce-")?;
        let on_label = start == 0 || prefix.as_bytes()[start - 1] == b'.';
        on_label.then_some(())?;
        prefix[start..].split_once('.')?.1
    } else {
        prefix
    };
    service_of(prefix).map(|service| (service, region))
}

/// The name a request to an inferred `service` signs for, given the `path` it is signed
/// with: MQTT over WebSocket (the path `/mqtt`) on an IoT Core data endpoint signs as
/// `iotdevicegateway`; every other request as the host says. The host alone cannot tell the
/// two apart, and the `wss` scheme never reaches a route (a `wss://` URL is presigned in its
/// `https://` form), so the path does.
pub(crate) fn signing_name_for_path(service: &'static str, path: &str) -> &'static str {
    if service == "iotdata" && path == IOT_MQTT_PATH {
        "iotdevicegateway"
    } else {
        service
    }
}

/// Hosts with no region label right before the suffix: OpenSearch's region-first shape and
/// S3's legacy and global hosts.
fn region_before_service<'h>(rest: &'h str, suffix: &str) -> Option<(&'static str, &'h str)> {
    let (front, last) = rest.rsplit_once('.').unwrap_or(("", rest));
    // `{domain}.{region}.es.amazonaws.com`, `{id}.{region}.aoss.amazonaws.com`
    if matches!(last, "es" | "aoss") && suffix.starts_with("amazonaws.") {
        let region = front.rsplit('.').next().filter(|r| is_region(r))?;
        return Some((if last == "es" { "es" } else { "aoss" }, region));
    }
    if suffix != "amazonaws.com" {
        return None;
    }
    // `{bucket}.s3.amazonaws.com`, `{bucket}.s3-external-1.amazonaws.com` (us-east-1), and
    // the legacy dash form `{bucket}.s3-us-west-2.amazonaws.com`.
    match last {
        "s3" | "s3-external-1" => Some(("s3", "us-east-1")),
        _ => {
            let region = last.strip_prefix("s3-")?;
            let region = region.strip_prefix("fips-").unwrap_or(region);
            is_region(region).then_some(("s3", region))
        }
    }
}

/// The signing name for the labels in front of the region.
fn service_of(prefix: &str) -> Option<&'static str> {
    if let Some(service) = lookup(prefix) {
        return Some(service);
    }
    // The caller's labels in front: try each shorter tail, for services that have them.
    let mut tail = prefix;
    while let Some((_, shorter)) = tail.split_once('.') {
        tail = shorter;
        if let Some(service) = lookup(tail).filter(|_| customer_prefixed(tail)) {
            return Some(service);
        }
    }
    if let Some((label, rest)) = prefix.split_once('.') {
        let account = ACCOUNT_PREFIXED.iter().find(|(p, _)| *p == rest);
        if let Some((_, service)) = account.filter(|_| !label.is_empty()) {
            return Some(service);
        }
    }
    // S3 Express One Zone: `{bucket}.s3express-{az-id}.{region}` (also `-fips-`).
    tail.starts_with("s3express-").then_some("s3express")
}

fn customer_prefixed(prefix: &str) -> bool {
    let unfipsed = prefix.strip_suffix("-fips").unwrap_or(prefix);
    CUSTOMER_PREFIXED.contains(&unfipsed)
}

/// The tables' signing name for `prefix`, also for its FIPS forms: `sqs-fips`,
/// `runtime-fips.sagemaker`, `fips.batch`, `data.iot-fips` (endpoints.json's FIPS variants
/// and hostnames).
fn lookup(prefix: &str) -> Option<&'static str> {
    let find = |p: &str| {
        let in_table = |table: &'static [(&'static str, &'static str)]| {
            table
                .binary_search_by(|(k, _)| (*k).cmp(p))
                .ok()
                .map(|i| table[i].1)
        };
        in_table(SIGNING_NAMES).or_else(|| in_table(DATA_PLANE_SIGNING_NAMES))
    };
    if let Some(service) = find(prefix) {
        return Some(service);
    }
    if !prefix.contains("fips") {
        return None;
    }
    let without = prefix.strip_prefix("fips.").unwrap_or(prefix);
    let normalized: Vec<&str> = without
        .split('.')
        .map(|label| label.strip_suffix("-fips").unwrap_or(label))
        .collect();
    find(&normalized.join("."))
}

/// A region code: `us-east-1`, `us-gov-west-1`, `cn-north-1`, `eusc-de-east-1`: lower-case
/// letter groups and a trailing number, at least three parts (endpoints.json `regionRegex`).
fn is_region(label: &str) -> bool {
    let Some((words, number)) = label.rsplit_once('-') else {
        return false;
    };
    !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
        && words.contains('-')
        && words
            .split('-')
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
}

// ---- Generated: run scripts/endpoints/generate.py, do not edit. ----

// BEGIN GENERATED
// From botocore 1.43.67 by scripts/endpoints/generate.py: do not edit by hand.

/// DNS suffixes of the AWS partitions (`endpoints.json` and `partitions.json`), longer
/// suffixes first.
#[rustfmt::skip]
static PARTITION_DNS_SUFFIXES: &[&str] = &[
    "api.amazonwebservices.com.cn",
    "api.amazonwebservices.eu",
    "api.cloud-aws.adc-e.uk",
    "api.aws.hci.ic.gov",
    "amazonaws.com.cn",
    "api.aws.ic.gov",
    "api.aws.scloud",
    "cloud.adc-e.uk",
    "csp.hci.ic.gov",
    "amazonaws.com",
    "sc2s.sgov.gov",
    "amazonaws.eu",
    "c2s.ic.gov",
    "api.aws",
];

/// Hosts whose scope region is not in the host name: partition-global endpoints and the
/// like, with the service and region their `credentialScope` names. Sorted by host.
#[rustfmt::skip]
pub(crate) static GLOBAL_HOSTS: &[(&str, &str, &str)] = &[
    ("budgets.amazonaws.com", "budgets", "us-east-1"),
    ("budgets.amazonaws.com.cn", "budgets", "cn-northwest-1"),
    ("budgets.c2s.ic.gov", "budgets", "us-iso-east-1"),
    ("budgets.global.cloud.adc-e.uk", "budgets", "eu-isoe-west-1"),
    ("budgets.global.csp.hci.ic.gov", "budgets", "us-isof-south-1"),
    ("budgets.global.sc2s.sgov.gov", "budgets", "us-isob-east-1"),
    ("cloudfront.amazonaws.com", "cloudfront", "us-east-1"),
    ("global.health.amazonaws.com", "health", "us-east-1"),
    ("global.health.amazonaws.com.cn", "health", "cn-northwest-1"),
    ("global.health.us-gov.amazonaws.com", "health", "us-gov-west-1"),
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
    ("savingsplans.cloud.adc-e.uk", "savingsplans", "eu-isoe-west-1"),
    ("savingsplans.csp.hci.ic.gov", "savingsplans", "us-isof-south-1"),
    ("sts.amazonaws.com", "sts", "us-east-1"),
    ("waf-fips.amazonaws.com", "waf", "us-east-1"),
    ("waf.amazonaws.com", "waf", "us-east-1"),
];

/// Host prefix (botocore `endpointPrefix`) → signing name, sorted by prefix for a binary
/// search. Rows whose prefix and signing name are equal say only "this is a service".
#[rustfmt::skip]
pub(crate) static SIGNING_NAMES: &[(&str, &str)] = &[
    ("a2i-runtime.sagemaker", "sagemaker"),
    ("access-analyzer", "access-analyzer"),
    ("account", "account"),
    ("acm", "acm"),
    ("acm-pca", "acm-pca"),
    ("aco-automation", "aco-automation"),
    ("admin.wickr", "wickr"),
    ("agent-registry", "agent-registry"),
    ("agent-registry-control", "agent-registry"),
    ("agreement-marketplace", "aws-marketplace"),
    ("aidevops", "aidevops"),
    ("aiops", "aiops"),
    ("airflow", "airflow"),
    ("airflow-serverless", "airflow-serverless"),
    ("amplify", "amplify"),
    ("amplifybackend", "amplifybackend"),
    ("amplifyuibuilder", "amplifyuibuilder"),
    ("aos", "es"),
    ("aoss", "aoss"),
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
    ("apigateway", "apigateway"),
    ("app-integrations", "app-integrations"),
    ("appconfig", "appconfig"),
    ("appconfigdata", "appconfig"),
    ("appfabric", "appfabric"),
    ("appflow", "appflow"),
    ("application-autoscaling", "application-autoscaling"),
    ("application-cost-profiler", "application-cost-profiler"),
    ("application-signals", "application-signals"),
    ("applicationinsights", "applicationinsights"),
    ("appmesh", "appmesh"),
    ("apprunner", "apprunner"),
    ("appstream2", "appstream"),
    ("appsync", "appsync"),
    ("aps", "aps"),
    ("arc-region-switch", "arc-region-switch"),
    ("arc-zonal-shift", "arc-zonal-shift"),
    ("artifact", "artifact"),
    ("athena", "athena"),
    ("auditmanager", "auditmanager"),
    ("autoscaling", "autoscaling"),
    ("autoscaling-plans", "autoscaling-plans"),
    ("b2bi", "b2bi"),
    ("backup", "backup"),
    ("backup-gateway", "backup-gateway"),
    ("backup-search", "backup-search"),
    ("batch", "batch"),
    ("bcm-dashboards", "bcm-dashboards"),
    ("bcm-data-exports", "bcm-data-exports"),
    ("bcm-pricing-calculator", "bcm-pricing-calculator"),
    ("bcm-recommended-actions", "bcm-recommended-actions"),
    ("bedrock", "bedrock"),
    ("bedrock-agent", "bedrock"),
    ("bedrock-agent-runtime", "bedrock"),
    ("bedrock-agentcore", "bedrock-agentcore"),
    ("bedrock-agentcore-control", "bedrock-agentcore"),
    ("bedrock-data-automation", "bedrock"),
    ("bedrock-data-automation-runtime", "bedrock"),
    ("bedrock-runtime", "bedrock"),
    ("billing", "billing"),
    ("billingconductor", "billingconductor"),
    ("braket", "braket"),
    ("budgets", "budgets"),
    ("cases", "cases"),
    ("cassandra", "cassandra"),
    ("cassandra-streams", "cassandra"),
    ("catalog.marketplace", "aws-marketplace"),
    ("ce", "ce"),
    ("chatbot", "chatbot"),
    ("chime", "chime"),
    ("cleanrooms", "cleanrooms"),
    ("cleanrooms-ml", "cleanrooms-ml"),
    ("cloud9", "cloud9"),
    ("cloudcontrolapi", "cloudcontrolapi"),
    ("clouddirectory", "clouddirectory"),
    ("cloudformation", "cloudformation"),
    ("cloudfront", "cloudfront"),
    ("cloudfront-keyvaluestore", "cloudfront-keyvaluestore"),
    ("cloudhsm", "cloudhsm"),
    ("cloudhsmv2", "cloudhsm"),
    ("cloudsearch", "cloudsearch"),
    ("cloudsearchdomain", "cloudsearch"),
    ("cloudtrail", "cloudtrail"),
    ("cloudtrail-data", "cloudtrail-data"),
    ("cn.transcribe", "transcribe"),
    ("codeartifact", "codeartifact"),
    ("codebuild", "codebuild"),
    ("codecommit", "codecommit"),
    ("codeconnections", "codeconnections"),
    ("codedeploy", "codedeploy"),
    ("codeguru-profiler", "codeguru-profiler"),
    ("codeguru-reviewer", "codeguru-reviewer"),
    ("codeguru-security", "codeguru-security"),
    ("codepipeline", "codepipeline"),
    ("codestar-connections", "codestar-connections"),
    ("codestar-notifications", "codestar-notifications"),
    ("cognito-identity", "cognito-identity"),
    ("cognito-idp", "cognito-idp"),
    ("cognito-sync", "cognito-sync"),
    ("comprehend", "comprehend"),
    ("comprehendmedical", "comprehendmedical"),
    ("compute-optimizer", "compute-optimizer"),
    ("config", "config"),
    ("connect", "connect"),
    ("connect-campaigns", "connect-campaigns"),
    ("contact-lens", "connect"),
    ("controlcatalog", "controlcatalog"),
    ("controlplane.payment-cryptography", "payment-cryptography"),
    ("controltower", "controltower"),
    ("cost-optimization-hub", "cost-optimization-hub"),
    ("cur", "cur"),
    ("data-ats.iot", "iotdata"),
    ("data-signer", "signer"),
    ("data.ats.iot", "iotdata"),
    ("data.iot", "iotdata"),
    ("data.iottwinmaker", "iottwinmaker"),
    ("data.jobs.iot", "iot-jobs-data"),
    ("data.mediastore", "mediastore"),
    ("data.qapps", "qapps"),
    ("databrew", "databrew"),
    ("dataexchange", "dataexchange"),
    ("datapipeline", "datapipeline"),
    ("dataplane.payment-cryptography", "payment-cryptography"),
    ("datasync", "datasync"),
    ("datazone", "datazone"),
    ("dax", "dax"),
    ("deadline", "deadline"),
    ("deployment-marketplace", "aws-marketplace"),
    ("detective", "detective"),
    ("devicefarm", "devicefarm"),
    ("devops-guru", "devops-guru"),
    ("directconnect", "directconnect"),
    ("discovery", "discovery"),
    ("discovery-marketplace", "aws-marketplace"),
    ("dlm", "dlm"),
    ("dms", "dms"),
    ("docdb-elastic", "docdb-elastic"),
    ("drs", "drs"),
    ("ds", "ds"),
    ("ds-data", "ds-data"),
    ("dsql", "dsql"),
    ("dynamodb", "dynamodb"),
    ("ebs", "ebs"),
    ("ec2", "ec2"),
    ("ec2-instance-connect", "ec2-instance-connect"),
    ("ecr", "ecr"),
    ("ecr-public", "ecr-public"),
    ("ecs", "ecs"),
    ("edge.sagemaker", "sagemaker"),
    ("eks", "eks"),
    ("eks-auth", "eks-auth"),
    ("elasticache", "elasticache"),
    ("elasticbeanstalk", "elasticbeanstalk"),
    ("elasticfilesystem", "elasticfilesystem"),
    ("elasticloadbalancing", "elasticloadbalancing"),
    ("elasticmapreduce", "elasticmapreduce"),
    ("elemental-inference", "elemental-inference"),
    ("email", "ses"),
    ("emr-containers", "emr-containers"),
    ("emr-serverless", "emr-serverless"),
    ("entitlement-marketplace", "aws-marketplace"),
    ("entitlement.marketplace", "aws-marketplace"),
    ("entityresolution", "entityresolution"),
    ("es", "es"),
    ("events", "events"),
    ("evs", "evs"),
    ("execute-api", "execute-api"),
    ("featurestore-runtime.sagemaker", "sagemaker"),
    ("finspace", "finspace"),
    ("finspace-api", "finspace-api"),
    ("firehose", "firehose"),
    ("fis", "fis"),
    ("fms", "fms"),
    ("forecast", "forecast"),
    ("forecastquery", "forecast"),
    ("frauddetector", "frauddetector"),
    ("freetier", "freetier"),
    ("fsx", "fsx"),
    ("gamelift", "gamelift"),
    ("gameliftstreams", "gameliftstreams"),
    ("geo", "geo"),
    ("geo-maps", "geo-maps"),
    ("geo-places", "geo-places"),
    ("geo-routes", "geo-routes"),
    ("glacier", "glacier"),
    ("globalaccelerator", "globalaccelerator"),
    ("glue", "glue"),
    ("grafana", "grafana"),
    ("greengrass", "greengrass"),
    ("greengrass-ats.iot", "greengrass"),
    ("groundstation", "groundstation"),
    ("guardduty", "guardduty"),
    ("health", "health"),
    ("health-agent", "health-agent"),
    ("healthlake", "healthlake"),
    ("iam", "iam"),
    ("identity-chime", "chime"),
    ("identitystore", "identitystore"),
    ("imagebuilder", "imagebuilder"),
    ("ingest.timestream", "timestream"),
    ("inspector", "inspector"),
    ("inspector-scan", "inspector-scan"),
    ("inspector2", "inspector2"),
    ("interconnect", "interconnect"),
    ("internetmonitor", "internetmonitor"),
    ("invoicing", "invoicing"),
    ("iot", "iot"),
    ("iotfleetwise", "iotfleetwise"),
    ("iotsitewise", "iotsitewise"),
    ("iotthingsgraph", "iotthingsgraph"),
    ("iottwinmaker", "iottwinmaker"),
    ("ivs", "ivs"),
    ("ivschat", "ivschat"),
    ("ivsrealtime", "ivs"),
    ("job-runtime.sagemaker", "sagemaker"),
    ("kafka", "kafka"),
    ("kafkaconnect", "kafkaconnect"),
    ("kendra", "kendra"),
    ("kendra-ranking", "kendra-ranking"),
    ("kinesis", "kinesis"),
    ("kinesisanalytics", "kinesisanalytics"),
    ("kinesisvideo", "kinesisvideo"),
    ("kms", "kms"),
    ("lakeformation", "lakeformation"),
    ("lambda", "lambda"),
    ("launchwizard", "launchwizard"),
    ("license-manager", "license-manager"),
    ("license-manager-linux-subscriptions", "license-manager-linux-subscriptions"),
    ("license-manager-user-subscriptions", "license-manager-user-subscriptions"),
    ("lightsail", "lightsail"),
    ("logs", "logs"),
    ("lookoutequipment", "lookoutequipment"),
    ("m2", "m2"),
    ("machinelearning", "machinelearning"),
    ("macie2", "macie2"),
    ("mail-manager", "ses"),
    ("managedblockchain", "managedblockchain"),
    ("managedblockchain-query", "managedblockchain-query"),
    ("marketplacecommerceanalytics", "marketplacecommerceanalytics"),
    ("media-pipelines-chime", "chime"),
    ("mediaconnect", "mediaconnect"),
    ("mediaconvert", "mediaconvert"),
    ("medialive", "medialive"),
    ("mediapackage", "mediapackage"),
    ("mediapackage-vod", "mediapackage-vod"),
    ("mediapackagev2", "mediapackagev2"),
    ("mediastore", "mediastore"),
    ("medical-imaging", "medical-imaging"),
    ("meetings-chime", "chime"),
    ("memory-db", "memorydb"),
    ("messaging-chime", "chime"),
    ("metering-marketplace", "aws-marketplace"),
    ("metering.marketplace", "aws-marketplace"),
    ("metrics.sagemaker", "sagemaker"),
    ("mgh", "mgh"),
    ("mgn", "mgn"),
    ("migrationhub-config", "mgh"),
    ("migrationhub-orchestrator", "migrationhub-orchestrator"),
    ("migrationhub-strategy", "migrationhub-strategy"),
    ("models-v2-lex", "lex"),
    ("models.lex", "lex"),
    ("monitoring", "monitoring"),
    ("mpa", "mpa"),
    ("mq", "mq"),
    ("mturk-requester", "mturk-requester"),
    ("mturk-requester-sandbox", "mturk-requester"),
    ("neptune-db", "neptune-db"),
    ("neptune-graph", "neptune-graph"),
    ("network-firewall", "network-firewall"),
    ("networkflowmonitor", "networkflowmonitor"),
    ("networkmanager", "networkmanager"),
    ("networkmonitor", "networkmonitor"),
    ("notifications", "notifications"),
    ("notifications-contacts", "notifications-contacts"),
    ("nova-act", "nova-act"),
    ("oam", "oam"),
    ("observabilityadmin", "observabilityadmin"),
    ("odb", "odb"),
    ("oidc", "sso-oauth"),
    ("omics", "omics"),
    ("organizations", "organizations"),
    ("osis", "osis"),
    ("outposts", "outposts"),
    ("participant.connect", "execute-api"),
    ("partnercentral-account", "partnercentral-account"),
    ("partnercentral-benefits", "partnercentral-benefits"),
    ("partnercentral-channel", "partnercentral-channel"),
    ("partnercentral-prm", "partnercentral"),
    ("partnercentral-selling", "partnercentral-selling"),
    ("pca-connector-ad", "pca-connector-ad"),
    ("pca-connector-scep", "pca-connector-scep"),
    ("pcs", "pcs"),
    ("personalize", "personalize"),
    ("personalize-events", "personalize"),
    ("personalize-runtime", "personalize"),
    ("pi", "pi"),
    ("pinpoint", "mobiletargeting"),
    ("pipes", "pipes"),
    ("polly", "polly"),
    ("portal.sso", "awsssoportal"),
    ("pricingplanmanager", "pricingplanmanager"),
    ("profile", "profile"),
    ("proton", "proton"),
    ("qbusiness", "qbusiness"),
    ("query.timestream", "timestream"),
    ("quicksight", "quicksight"),
    ("ram", "ram"),
    ("rbin", "rbin"),
    ("rds", "rds"),
    ("rds-data", "rds-data"),
    ("redshift", "redshift"),
    ("redshift-data", "redshift-data"),
    ("redshift-serverless", "redshift-serverless"),
    ("refactor-spaces", "refactor-spaces"),
    ("rekognition", "rekognition"),
    ("reporting-marketplace", "aws-marketplace"),
    ("repostspace", "repostspace"),
    ("resiliencehub", "resiliencehub"),
    ("resource-explorer-2", "resource-explorer-2"),
    ("resource-groups", "resource-groups"),
    ("rolesanywhere", "rolesanywhere"),
    ("route53", "route53"),
    ("route53-recovery-cluster", "route53-recovery-cluster"),
    ("route53-recovery-control-config", "route53-recovery-control-config"),
    ("route53-recovery-readiness", "route53-recovery-readiness"),
    ("route53domains", "route53domains"),
    ("route53globalresolver", "route53globalresolver"),
    ("route53profiles", "route53profiles"),
    ("route53resolver", "route53resolver"),
    ("rtbfabric", "rtbfabric"),
    ("rum", "rum"),
    ("runtime-v2-lex", "lex"),
    ("runtime.lex", "lex"),
    ("runtime.sagemaker", "sagemaker"),
    ("s3", "s3"),
    ("s3-accesspoint", "s3"),
    ("s3-control", "s3"),
    ("s3-object-lambda", "s3-object-lambda"),
    ("s3-outposts", "s3-outposts"),
    ("s3express-control", "s3express"),
    ("s3files", "s3files"),
    ("s3tables", "s3tables"),
    ("s3vectors", "s3vectors"),
    ("sagemaker-geospatial", "sagemaker-geospatial"),
    ("savingsplans", "savingsplans"),
    ("scheduler", "scheduler"),
    ("schemas", "schemas"),
    ("scn", "scn"),
    ("sdb", "sdb"),
    ("secretsmanager", "secretsmanager"),
    ("security-ir", "security-ir"),
    ("securityagent", "securityagent"),
    ("securityhub", "securityhub"),
    ("securitylake", "securitylake"),
    ("serverlessrepo", "serverlessrepo"),
    ("servicecatalog", "servicecatalog"),
    ("servicecatalog-appregistry", "servicecatalog"),
    ("servicediscovery", "servicediscovery"),
    ("servicequotas", "servicequotas"),
    ("shield", "shield"),
    ("signer", "signer"),
    ("signin", "signin"),
    ("sms-voice", "sms-voice"),
    ("sms-voice.pinpoint", "sms-voice"),
    ("snow-device-management", "snow-device-management"),
    ("snowball", "snowball"),
    ("sns", "sns"),
    ("social-messaging", "social-messaging"),
    ("sqs", "sqs"),
    ("ssm", "ssm"),
    ("ssm-contacts", "ssm-contacts"),
    ("ssm-guiconnect", "ssm-guiconnect"),
    ("ssm-incidents", "ssm-incidents"),
    ("ssm-quicksetup", "ssm-quicksetup"),
    ("ssm-sap", "ssm-sap"),
    ("sso", "sso"),
    ("states", "states"),
    ("storagegateway", "storagegateway"),
    ("streams.dynamodb", "dynamodb"),
    ("sts", "sts"),
    ("support", "support"),
    ("supportapp", "supportapp"),
    ("supportauthz", "supportauthz"),
    ("sustainability", "sustainability"),
    ("swf", "swf"),
    ("synthetics", "synthetics"),
    ("tagging", "tagging"),
    ("tax", "tax"),
    ("textract", "textract"),
    ("thinclient", "thinclient"),
    ("timestream-influxdb", "timestream-influxdb"),
    ("tnb", "tnb"),
    ("transcribe", "transcribe"),
    ("transfer", "transfer"),
    ("translate", "translate"),
    ("trustedadvisor", "trustedadvisor"),
    ("uxc", "uxc"),
    ("verification.signer", "signer"),
    ("verifiedpermissions", "verifiedpermissions"),
    ("voice-chime", "chime"),
    ("voiceid", "voiceid"),
    ("vpc-lattice", "vpc-lattice"),
    ("waf", "waf"),
    ("waf-regional", "waf-regional"),
    ("wafv2", "wafv2"),
    ("wellarchitected", "wellarchitected"),
    ("wisdom", "wisdom"),
    ("workdocs", "workdocs"),
    ("workmail", "workmail"),
    ("workmailmessageflow", "workmailmessageflow"),
    ("workspaces", "workspaces"),
    ("workspaces-instances", "workspaces-instances"),
    ("workspaces-web", "workspaces-web"),
    ("xray", "xray"),
];
// END GENERATED

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_for_binary_search() {
        assert!(SIGNING_NAMES.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(GLOBAL_HOSTS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(DATA_PLANE_SIGNING_NAMES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    /// The generated region is what the lookups assume: rows well formed (lower-case
    /// prefixes and hosts of DNS labels, plain signing names, region codes), suffixes
    /// tried longest first, and the hand-maintained tables adding to it, not overriding it.
    #[test]
    fn generated_tables_are_well_formed() {
        let label_ok = |l: &str| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        let name_ok =
            |n: &str| !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        for (prefix, service) in SIGNING_NAMES.iter().chain(DATA_PLANE_SIGNING_NAMES) {
            assert!(prefix.split('.').all(label_ok), "{prefix}");
            assert!(!prefix.contains("fips"), "{prefix}: FIPS forms are folded");
            assert!(name_ok(service), "{prefix} -> {service}");
        }
        for (host, service, region) in GLOBAL_HOSTS {
            assert!(host.split('.').all(label_ok), "{host}");
            assert!(is_aws_host(host), "{host}");
            assert!(name_ok(service) && is_region(region), "{host}");
        }
        let suffixes: Vec<&str> = dns_suffixes().collect();
        for (i, earlier) in suffixes.iter().enumerate() {
            assert!(earlier.split('.').all(label_ok), "{earlier}");
            for later in &suffixes[i + 1..] {
                assert!(
                    !later.ends_with(&format!(".{earlier}")),
                    "{later} is tried after {earlier}, which it ends with"
                );
            }
        }
        for (prefix, _) in DATA_PLANE_SIGNING_NAMES {
            assert!(
                SIGNING_NAMES
                    .binary_search_by(|(k, _)| k.cmp(prefix))
                    .is_err(),
                "{prefix} is in the generated table: drop it from the hand-maintained one"
            );
        }
        assert!(!OTHER_DNS_SUFFIXES
            .iter()
            .any(|s| PARTITION_DNS_SUFFIXES.contains(s)));
    }

    #[test]
    fn region_codes() {
        for region in [
            "us-east-1",
            "us-gov-west-1",
            "cn-north-1",
            "eusc-de-east-1",
            "us-isob-east-1",
        ] {
            assert!(is_region(region), "{region}");
        }
        for label in [
            "us-gov",
            "external-1",
            "dualstack",
            "us-east-",
            "-east-1",
            "US-EAST-1",
            "us--1",
        ] {
            assert!(!is_region(label), "{label}");
        }
    }

    #[test]
    fn aws_hosts_are_those_under_an_aws_dns_suffix() {
        for host in [
            "nosuchservice.us-east-1.amazonaws.com",
            "a1b2c3d4e5f6g7.credentials.iot.us-east-1.amazonaws.com",
            "ec2-192-0-2-1.compute-1.amazonaws.com",
            "my-bucket.s3-accelerate.amazonaws.com",
            "x.eu-west-1.on.aws",
            "sqs.cn-north-1.amazonaws.com.cn:443",
            "sqs.us-east-1.api.aws.",
            "amazonaws.com",
        ] {
            assert!(is_aws_host(host), "{host}");
        }
        for host in [
            "api.example.com",
            "localhost",
            "127.0.0.1:8080",
            "[::1]",
            "d111111abcdef8.cloudfront.net",
            "amazonaws.com.evil.example.com",
            "notamazonaws.com",
            "execute-api.us-east-1.amazonaws.comx",
        ] {
            assert!(!is_aws_host(host), "{host}");
        }
    }

    #[test]
    fn iot_account_endpoints_sign_as_iotdata() {
        for host in [
            "a1b2c3d4e5f6g7-ats.iot.us-east-1.amazonaws.com",
            "a1b2c3d4e5f6g7.iot.eu-west-1.amazonaws.com",
            "a1b2c3d4e5f6g7.ats.iot.cn-north-1.amazonaws.com.cn",
        ] {
            assert_eq!(infer_scope(host).map(|s| s.0), Some("iotdata"), "{host}");
        }
        // The control plane keeps its name; other IoT hosts with the account's labels in
        // front are not data endpoints.
        assert_eq!(
            infer_scope("iot.us-east-1.amazonaws.com"),
            Some(("iot", "us-east-1"))
        );
        assert_eq!(
            infer_scope("a1b2c3d4e5f6g7.credentials.iot.us-east-1.amazonaws.com"),
            None
        );
        assert_eq!(infer_scope(".iot.us-east-1.amazonaws.com"), None);
    }

    #[test]
    fn mqtt_over_websocket_signs_as_iotdevicegateway() {
        assert_eq!(
            signing_name_for_path("iotdata", "/mqtt"),
            "iotdevicegateway"
        );
        for path in ["/", "/topics/a", "/mqtt/x", "/MQTT"] {
            assert_eq!(signing_name_for_path("iotdata", path), "iotdata", "{path}");
        }
        assert_eq!(signing_name_for_path("execute-api", "/mqtt"), "execute-api");
    }
}
