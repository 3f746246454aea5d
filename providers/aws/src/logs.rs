//! CloudWatch Logs: `aws:logs/LogGroup`.

use std::marker::PhantomData;

use async_trait::async_trait;
use cairn::{Output, ProviderError, ResourceContext, TypeSchema, UniqueKey};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::Clients;
use crate::error::{aws, aws_on, gone};
use crate::names;
use crate::resource::{AwsResource, Handler, Typed};
use crate::{AwsProvider, Tags, tags};

pub(crate) fn handler(ty: &str) -> Option<&'static dyn Handler> {
    Some(match ty {
        LogGroupImpl::TYPE => &Typed::<LogGroupImpl>(PhantomData),
        _ => return None,
    })
}

cairn::args! {
    /// Arguments of a [`LogGroup`].
    pub struct LogGroupArgs {
        /// Unique in the account and region. Left unset, Cairn names it `<resource name>-<random suffix>` and
        /// picks a new name for each replacement, so the new copy is created first.
        pub name: Option<Output<String>>,
        pub retention_in_days: Option<Output<i32>>,
        pub tags: Option<Output<Tags>>,
    }
}

cairn::resource!(
    /// A log group (where the tasks' `awslogs` driver writes).
    LogGroup, LogGroupArgs, "aws:logs/LogGroup", AwsProvider, { name: String, arn: String }
);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LogGroupInputs {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retention_in_days: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tags: Option<Tags>,
}

pub(crate) struct LogGroupImpl;

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

fn outputs(c: &Clients, g: &aws_sdk_cloudwatchlogs::types::LogGroup, name: &str) -> Value {
    // `arn` ends in `:*`; the plain ARN is what policies and tags want.
    let arn = g
        .log_group_arn()
        .map(str::to_string)
        .or_else(|| g.arn().map(|a| a.trim_end_matches(":*").to_string()))
        .unwrap_or_else(|| format!("arn:aws:logs:{}::log-group:{name}", c.region));
    json!({ "name": name, "arn": arn })
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
impl AwsResource for LogGroupImpl {
    const TYPE: &'static str = "aws:logs/LogGroup";
    type Inputs = LogGroupInputs;

    fn schema() -> TypeSchema {
        TypeSchema {
            replace_on_changes: &["name"],
            unique: &[UniqueKey {
                key: &["name"],
                within: &[],
                auto_name: Some(names::LOG_GROUP),
            }],
        }
    }

    async fn create(
        c: &Clients,
        ctx: &ResourceContext,
        _token: &str,
        i: &LogGroupInputs,
    ) -> Result<(String, Value), ProviderError> {
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

    async fn cairn_tags(c: &Clients, id: &str) -> Result<Option<Tags>, ProviderError> {
        // The one call that takes the group's name rather than its ARN.
        #[allow(deprecated)]
        let out = c
            .logs
            .list_tags_log_group()
            .log_group_name(id)
            .send()
            .await
            .map_err(aws("ListTagsLogGroup"))?;
        Ok(Some(
            out.tags()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .collect(),
        ))
    }

    fn id_from_inputs(i: &Self::Inputs) -> Option<String> {
        Some(i.name.clone())
    }

    async fn read(
        c: &Clients,
        id: &str,
        i: &LogGroupInputs,
    ) -> Result<Option<(LogGroupInputs, Value)>, ProviderError> {
        let Some(g) = describe(c, id).await? else {
            return Ok(None);
        };
        let now = LogGroupInputs {
            name: id.to_string(),
            retention_in_days: g.retention_in_days(),
            // Tags are applied at creation and on update; reading them back needs an API moto
            // and AWS disagree on, so the recorded ones stand.
            tags: i.tags.clone(),
        };
        Ok(Some((now, outputs(c, &g, id))))
    }

    async fn update(
        c: &Clients,
        _ctx: &ResourceContext,
        id: &str,
        old: &LogGroupInputs,
        new: &LogGroupInputs,
    ) -> Result<Value, ProviderError> {
        if old.retention_in_days != new.retention_in_days {
            set_retention(c, id, new.retention_in_days).await?;
        }
        let g = describe(c, id)
            .await?
            .ok_or_else(|| ProviderError::new(format!("log group {id} disappeared")))?;
        let out = outputs(c, &g, id);
        let (set, remove) = tags::changes(old.tags.as_ref(), new.tags.as_ref());
        let arn = out["arn"].as_str().unwrap_or_default().to_string();
        if !set.is_empty() {
            c.logs
                .tag_resource()
                .resource_arn(&arn)
                .set_tags(Some(set.into_iter().collect()))
                .send()
                .await
                .map_err(aws_on("TagResource", "tags"))?;
        }
        if !remove.is_empty() {
            c.logs
                .untag_resource()
                .resource_arn(&arn)
                .set_tag_keys(Some(remove))
                .send()
                .await
                .map_err(aws_on("UntagResource", "tags"))?;
        }
        Ok(out)
    }

    async fn delete(
        c: &Clients,
        id: &str,
        _i: &LogGroupInputs,
        _o: &Value,
    ) -> Result<(), ProviderError> {
        gone(
            c.logs.delete_log_group().log_group_name(id).send().await,
            "DeleteLogGroup",
        )
    }
}
