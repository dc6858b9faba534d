//! grpc.health.v1.Health implemented by hand over tonic-health's generated types, so
//! statuses, latency and hangs follow the behaviour.

use std::pin::Pin;
use std::sync::Arc;

use hyper::server::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tonic::codegen::tokio_stream::Stream;
use tonic::{Status, async_trait};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_server::{Health, HealthServer};
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

use super::conn::ConnInfo;
use crate::behaviour::{GrpcAnswer, ReplyKind, Request};

pub(crate) async fn serve<I>(io: I, info: Arc<ConnInfo>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let svc = TowerToHyperService::new(HealthServer::new(HealthSvc { info }));
    let _ = http2::Builder::new(TokioExecutor::new())
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(io), svc)
        .await;
}

struct HealthSvc {
    info: Arc<ConnInfo>,
}

fn status(s: ServingStatus) -> tonic::Response<HealthCheckResponse> {
    tonic::Response::new(HealthCheckResponse { status: s as i32 })
}

#[async_trait]
impl Health for HealthSvc {
    async fn check(
        &self,
        request: tonic::Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<HealthCheckResponse>, Status> {
        let service = request.into_inner().service;
        let reply = self.info.container.respond(&Request::Grpc { port: self.info.declared, service });
        if !reply.latency.is_zero() {
            tokio::time::sleep(reply.latency).await;
        }
        match reply.kind {
            ReplyKind::Grpc(GrpcAnswer::Serving) => Ok(status(ServingStatus::Serving)),
            ReplyKind::Grpc(GrpcAnswer::NotServing) => Ok(status(ServingStatus::NotServing)),
            ReplyKind::Grpc(GrpcAnswer::Unknown) => Ok(status(ServingStatus::Unknown)),
            // What grpc-go's health server answers for a service it does not know.
            ReplyKind::Grpc(GrpcAnswer::UnknownService) => Err(Status::not_found("unknown service")),
            // What grpc-go answers when the Health service is not registered at all.
            ReplyKind::Grpc(GrpcAnswer::Unimplemented) => {
                Err(Status::unimplemented("unknown service grpc.health.v1.Health"))
            }
            ReplyKind::Hang => std::future::pending().await,
            ReplyKind::Close => {
                self.info.ctl.abort(false);
                std::future::pending().await
            }
            _ => {
                self.info.ctl.abort(true);
                std::future::pending().await
            }
        }
    }

    type WatchStream = Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, Status>> + Send + 'static>>;

    async fn watch(
        &self,
        _request: tonic::Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<Self::WatchStream>, Status> {
        // Probes use Check only; Watch is outside the vocabulary.
        Err(Status::unimplemented("probebench targets implement Check only"))
    }
}
