//! CloudWatch Logs: `aws:logs/LogGroup`.

use async_trait::async_trait;
use cairn::{ProviderError, ResourceContext};

use crate::config::Clients;
use crate::error::{aws, aws_on, gone};
use crate::names;
use crate::resource::AwsResource;
use crate::tagging::Tagging;
use crate::{AwsProvider, Tags, tags};

/// A CloudWatch Logs log group: where a container's `awslogs` driver writes.
///
/// ```no_run
/// # fn program(stack: &mut cairn::Stack) {
/// use cairn_aws::logs::{LogGroup, LogGroupArgs};
/// let logs = LogGroup::new(stack, "app-logs", LogGroupArgs::builder()
///     .name("/ecs/app")
///     .retention_in_days(14)
///     .build());
/// # }
/// ```
#[cairn::resource(token = "aws:logs/LogGroup", provider = AwsProvider)]
#[api(calls(
    CreateLogGroup,
    DescribeLogGroups,
    PutRetentionPolicy,
    DeleteRetentionPolicy,
    DeleteLogGroup
))]
pub struct LogGroup {
    /// The group's name (`/ecs/app`).
    #[replace]
    #[unique(name = names::LOG_GROUP)]
    #[api(
        name = "LogGroupName",
        values = "up to 512 letters, digits and `_-/.#`"
    )]
    pub name: String,
    /// How long events are kept.
    #[api(
        default = "kept forever",
        values = "1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, \
                  2192, 2557, 2922, 3288 or 3653 days"
    )]
    pub retention_in_days: Option<i32>,
    #[tags]
    pub tags: Option<Tags>,
    #[output]
    pub name: String,
    #[output]
    pub arn: String,
}

async fn describe(
    c: &Clients,
    name: &str,
) -> Result<Option<aws_sdk_cloudwatchlogs::types::LogGroup>, ProviderError> {
    let out = c
        .logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .map_err(aws("DescribeLogGroups"))?;
    Ok(out
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name))
        .cloned())
}

fn outputs(
    c: &Clients,
    g: &aws_sdk_cloudwatchlogs::types::LogGroup,
    name: &str,
) -> LogGroupOutputs {
    // `arn` ends in `:*`; the plain ARN is what policies and tags want.
    let arn = g
        .log_group_arn()
        .map(str::to_string)
        .or_else(|| g.arn().map(|a| a.trim_end_matches(":*").to_string()))
        .unwrap_or_else(|| format!("arn:aws:logs:{}::log-group:{name}", c.region));
    let name = name.to_string();
    LogGroupOutputs { name, arn }
}

async fn set_retention(c: &Clients, name: &str, days: Option<i32>) -> Result<(), ProviderError> {
    match days {
        Some(d) => {
            c.logs
                .put_retention_policy()
                .log_group_name(name)
                .retention_in_days(d)
                .send()
                .await
                .map_err(aws_on("PutRetentionPolicy", "retention_in_days"))?;
        }
        None => {
            c.logs
                .delete_retention_policy()
                .log_group_name(name)
                .send()
                .await
                .map_err(aws_on("DeleteRetentionPolicy", "retention_in_days"))?;
        }
    }
    Ok(())
}

#[async_trait]
impl AwsResource for LogGroup {
    const TAGS: Tagging = Tagging::Logs;

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &LogGroupInputs,
    ) -> Result<(String, LogGroupOutputs), ProviderError> {
        c.logs
            .create_log_group()
            .log_group_name(&i.name)
            .set_tags(Some(
                tags::with_cairn(ctx, i.tags.as_ref()).into_iter().collect(),
            ))
            .send()
            .await
            .map_err(aws_on("CreateLogGroup", "name"))?;
        if i.retention_in_days.is_some() {
            set_retention(c, &i.name, i.retention_in_days).await?;
        }
        let g = describe(c, &i.name)
            .await?
            .ok_or_else(|| ProviderError::new(format!("log group {} disappeared", i.name)))?;
        Ok((i.name.clone(), outputs(c, &g, &i.name)))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(i.name.clone())
    }

    async fn read(
        c: &Clients,
        id: &str,
        _i: Option<&LogGroupInputs>,
    ) -> Result<Option<(LogGroupInputs, LogGroupOutputs)>, ProviderError> {
        let Some(g) = describe(c, id).await? else {
            return Ok(None);
        };
        let now = LogGroupInputs {
            name: id.to_string(),
            retention_in_days: g.retention_in_days(),
            tags: None,
        };
        Ok(Some((now, outputs(c, &g, id))))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &LogGroupInputs,
        new: &LogGroupInputs,
    ) -> Result<LogGroupOutputs, ProviderError> {
        if old.retention_in_days != new.retention_in_days {
            set_retention(c, id, new.retention_in_days).await?;
        }
        let g = describe(c, id)
            .await?
            .ok_or_else(|| ProviderError::new(format!("log group {id} disappeared")))?;
        Ok(outputs(c, &g, id))
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &LogGroupInputs,
        _o: &LogGroupOutputs,
    ) -> Result<(), ProviderError> {
        gone(
            c.logs.delete_log_group().log_group_name(id).send().await,
            "DeleteLogGroup",
        )
    }
}
