//! Encrypted attachments over HTTP (spec/API.md, "Attachments"; PROTOCOL.md §13). How uploads
//! are cut into chunks and stored is [`crate::attachments`]'s.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use sealdesk_wire::attachments::{AttachmentDeclared, DeclareAttachmentBody};

use super::extract::{Bearer, Json, OctetStream};
use crate::attachments::{self, ChunkAddress};
use crate::error::ApiResult;
use crate::state::AppState;

/// `POST /api/v1/tickets/{id}/attachments`: declares an upload of `size` encrypted bytes and
/// reserves them from the ticket's quota.
pub async fn declare(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    bearer: Bearer,
    Json(body): Json<DeclareAttachmentBody>,
) -> ApiResult<(StatusCode, Json<AttachmentDeclared>)> {
    let attachment = attachments::declare(&state, &id, bearer.token(), body.size).await?;
    Ok((
        StatusCode::CREATED,
        Json(AttachmentDeclared {
            attachment_id: hex::encode(attachment),
        }),
    ))
}

/// `PUT /api/v1/tickets/{id}/attachments/{aid}/chunks/{index}`: stores one chunk. Sending a
/// chunk that is already stored is accepted if the bytes are identical, a conflict otherwise.
pub async fn put_chunk(
    State(state): State<Arc<AppState>>,
    Path((id, attachment, index)): Path<(String, String, String)>,
    bearer: Bearer,
    OctetStream(chunk): OctetStream,
) -> ApiResult<StatusCode> {
    let address = ChunkAddress {
        ticket: &id,
        attachment: &attachment,
        index: &index,
    };
    attachments::put_chunk(&state, address, bearer.token(), &chunk).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/tickets/{id}/attachments/{aid}/complete`: checks that every chunk arrived
/// and makes the attachment readable. Completing a complete attachment changes nothing.
pub async fn complete(
    State(state): State<Arc<AppState>>,
    Path((id, attachment)): Path<(String, String)>,
    bearer: Bearer,
) -> ApiResult<StatusCode> {
    attachments::complete(&state, &id, &attachment, bearer.token()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/tickets/{id}/attachments/{aid}`: the complete encrypted stream, read from
/// storage one chunk at a time as the client receives it.
pub async fn download(
    State(state): State<Arc<AppState>>,
    Path((id, attachment)): Path<(String, String)>,
    bearer: Bearer,
) -> ApiResult<Response> {
    let download = attachments::download(&state, &id, &attachment, bearer.token()).await?;
    let mut response = Response::new(Body::from_stream(download.chunks));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(download.size));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
