//! The web server (picoserve on embassy-net): the app's files from the flash bundle, and the
//! control socket at `/ws` behind the Origin/Host guard. One task per TCP connection.

use crate::assets;
use crate::config;
use crate::shared::{self, Out, OUTBOX};
use core::net::IpAddr;
use embassy_net::tcp::TcpSocket;
use embassy_net::{IpAddress, IpEndpoint, Stack};
use embassy_time::Duration;
use picoserve::io::{Read, Write};
use picoserve::request::{Path, Request};
use picoserve::response::ws::{Message, SocketRx, SocketTx, WebSocketCallback, WebSocketUpgrade};
use picoserve::response::{Content, IntoResponse, Response, ResponseWriter, StatusCode};
use picoserve::routing::PathRouterService;
use picoserve::{ResponseSent, Router};
use wsdeck_device::{Slot, CLOSE_FULL, CLOSE_TOO_BIG};
use wsdeck_esp32c3::device::{refusal_message, MAX_CLIENTS};
use wsdeck_esp32c3::http::{self, Answer, File};

/// Connections served at once: a browser opens up to six for the app's files, plus the sockets.
pub const TASKS: usize = 8;
/// Frames from the app are under 100 bytes; a longer one than this closes the socket with 1009
/// before its payload is read (docs/PROTOCOL.md, Limits).
const MAX_INCOMING: usize = 1024;

static CONFIG: picoserve::Config = picoserve::Config::const_default().keep_connection_alive();

#[embassy_executor::task(pool_size = TASKS)]
pub async fn task(stack: Stack<'static>) -> ! {
    let mut rx = [0u8; 1536];
    let mut tx = [0u8; 4096];
    let mut http = [0u8; 2048];
    loop {
        let mut socket = TcpSocket::new(stack, &mut rx, &mut tx);
        if socket.accept(80).await.is_err() {
            continue;
        }
        let Some(IpEndpoint { addr: IpAddress::Ipv4(addr), .. }) = socket.remote_endpoint() else { continue };
        // A phone that vanishes without closing is noticed when telemetry goes unacknowledged.
        socket.set_timeout(Some(Duration::from_secs(10)));
        socket.set_keep_alive(Some(Duration::from_secs(3)));
        let router = Router::from_service(Site { addr: IpAddr::V4(addr) });
        let _ = picoserve::Server::new(&router, &CONFIG, &mut http).serve(socket).await;
    }
}

/// Every path of one connection from `addr`.
struct Site {
    addr: IpAddr,
}

impl PathRouterService for Site {
    async fn call_path_router_service<R: Read, W: ResponseWriter<Error = R::Error>>(
        &self,
        state: &(),
        _: (),
        path: Path<'_>,
        mut request: Request<'_, R>,
        response_writer: W,
    ) -> Result<ResponseSent, W::Error> {
        let headers = request.parts.headers();
        let header = |name| headers.get(name).and_then(|v| v.as_str().ok());
        if path.encoded() == "/ws" {
            if let Err(refusal) = config::GUARD.check(header("host"), header("origin")) {
                let connection = request.body_connection.finalize().await?;
                return Response::new(StatusCode::FORBIDDEN, refusal_message(refusal))
                    .write_to(connection, response_writer)
                    .await;
            }
            let upgrade = picoserve::from_request!(state, request, response_writer, WebSocketUpgrade);
            let session = match shared::open(self.addr) {
                Ok(slot) => Session::Client(Leave(slot)),
                Err(_) => Session::Full,
            };
            let connection = request.body_connection.finalize().await?;
            return upgrade.on_upgrade(session).write_to(connection, response_writer).await;
        }
        let answer = http::answer(request.parts.method(), path.encoded(), header("if-none-match"), find);
        let connection = request.body_connection.finalize().await?;
        match answer {
            Answer::File { file, body } => {
                let headers = http::file_headers(&file, true);
                Response::new(StatusCode::OK, Gzip { file, body })
                    .with_headers(headers.as_slice())
                    .write_to(connection, response_writer)
                    .await
            }
            Answer::NotModified(file) => {
                let headers = http::file_headers(&file, false);
                Response::empty(StatusCode::NOT_MODIFIED)
                    .with_headers(headers.as_slice())
                    .write_to(connection, response_writer)
                    .await
            }
            Answer::NotFound => {
                Response::new(StatusCode::NOT_FOUND, "not found\n")
                    .write_to(connection, response_writer)
                    .await
            }
            Answer::MethodNotAllowed => {
                Response::new(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD are served\n")
                    .with_header("Allow", "GET, HEAD")
                    .write_to(connection, response_writer)
                    .await
            }
        }
    }
}

/// A path in the flash bundle's route table.
fn find(path: &str) -> Option<File> {
    assets::find(path).map(|a| File {
        path: a.path,
        mime: a.mime,
        gzip: a.gzip,
        etag: a.etag,
        cache_control: a.cache_control,
        csp: a.csp,
    })
}

/// A file's gzip body with its own Content-Type; for HEAD, its length and no body.
struct Gzip {
    file: File,
    body: bool,
}

impl Content for Gzip {
    fn content_type(&self) -> &'static str {
        self.file.mime
    }

    fn content_length(&self) -> usize {
        self.file.gzip.len()
    }

    async fn write_content<W: Write>(self, mut writer: W) -> Result<(), W::Error> {
        if self.body {
            writer.write_all(self.file.gzip).await?;
        }
        Ok(())
    }
}

/// Gives the client's slot back when its socket ends, however it ends (closed, failed, or the
/// upgrade never completed): if it drove, the car stops.
struct Leave(Slot);

impl Drop for Leave {
    fn drop(&mut self) {
        shared::close(self.0);
    }
}

enum Session {
    Client(Leave),
    /// Every place is taken: closed at once with 1013, as docs/PROTOCOL.md says.
    Full,
}

impl WebSocketCallback for Session {
    async fn run<R: Read, W: Write<Error = R::Error>>(
        self,
        mut rx: SocketRx<R>,
        mut tx: SocketTx<W>,
    ) -> Result<(), W::Error> {
        let leave = match self {
            Session::Full => {
                const _: () = assert!(MAX_CLIENTS == 4, "the close reason names the limit");
                return tx.close(Some((CLOSE_FULL, "too many clients (4 connected)"))).await;
            }
            Session::Client(leave) => leave,
        };
        let slot = leave.0;
        let mut buffer = [0u8; MAX_INCOMING];
        loop {
            let next = rx.next_message(&mut buffer, OUTBOX[slot].receive()).await?;
            match next {
                picoserve::futures::Either::Second(Out::Text(text)) => tx.send_text(&text).await?,
                picoserve::futures::Either::Second(Out::Close(code, reason)) => {
                    return tx.close(Some((code, reason))).await
                }
                picoserve::futures::Either::First(Ok(Message::Text(text))) => shared::frame(slot, text),
                // The protocol is text; a binary frame is ignored like an unknown message.
                picoserve::futures::Either::First(Ok(Message::Binary(_) | Message::Pong(_))) => {}
                picoserve::futures::Either::First(Ok(Message::Ping(data))) => tx.send_pong(data).await?,
                picoserve::futures::Either::First(Ok(Message::Close(_))) => return tx.close(None).await,
                picoserve::futures::Either::First(Err(e)) => {
                    use picoserve::response::ws::{ReadFrameError, ReadMessageError};
                    let code = match e {
                        ReadMessageError::ReadFrameError(
                            ReadFrameError::OutOfSpace | ReadFrameError::MessageIsTooLong(_),
                        ) => CLOSE_TOO_BIG,
                        other => other.code(),
                    };
                    return tx.close(Some((code, "frame refused"))).await;
                }
            }
        }
    }
}
