//! Elastic Load Balancing v2: `aws:lb/LoadBalancer`, `aws:lb/TargetGroup`, `aws:lb/Listener`,
//! `aws:lb/ListenerRule`, and what they share (protocols, actions).

mod action;
mod listener;
mod listener_rule;
mod load_balancer;
mod target_group;

use aws_sdk_elasticloadbalancingv2::types::Tag;
use cairn::ResourceContext;

use crate::{Tags, tags};

pub use action::{FixedResponse, Redirect};
pub use listener::{Listener, ListenerArgs, ListenerInputs, ListenerOutputs};
pub use listener_rule::{ListenerRule, ListenerRuleArgs, ListenerRuleInputs, ListenerRuleOutputs};
pub use load_balancer::{LoadBalancer, LoadBalancerArgs, LoadBalancerInputs, LoadBalancerOutputs};
pub use target_group::{TargetGroup, TargetGroupArgs, TargetGroupInputs, TargetGroupOutputs};

cairn::string_enum! {
    /// Whether a [`LoadBalancer`] has public addresses.
    pub enum Scheme {
        InternetFacing = "internet-facing",
        Internal = "internal",
    }
}

cairn::string_enum! {
    /// The kind of a [`LoadBalancer`].
    pub enum LoadBalancerType {
        Application = "application",
        Network = "network",
        Gateway = "gateway",
    }
}

cairn::string_enum! {
    /// The protocol of a [`TargetGroup`] or [`Listener`].
    pub enum Protocol {
        Http = "HTTP",
        Https = "HTTPS",
        Tcp = "TCP",
        Tls = "TLS",
        Udp = "UDP",
        TcpUdp = "TCP_UDP",
        Geneve = "GENEVE",
    }
}

cairn::string_enum! {
    /// What a [`TargetGroup`]'s targets are.
    pub enum TargetType {
        /// EC2 instances by id.
        Instance = "instance",
        /// IP addresses: Fargate tasks.
        Ip = "ip",
        Lambda = "lambda",
        Alb = "alb",
    }
}

pub(crate) fn elb_tags(ctx: &ResourceContext, user: Option<&Tags>) -> Vec<Tag> {
    tags::with_cairn(ctx, user)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}
