//! `convex mcp start`: a Model Context Protocol server over stdio, with the
//! official CLI's tools (see [`tools`]).
//!
//! - [`transport`]: newline-delimited JSON-RPC on stdin/stdout; malformed
//!   input gets a JSON-RPC error and the server keeps serving;
//! - the official Rust MCP SDK (`rmcp`) runs the protocol: the `initialize`
//!   handshake and the stateless 2026-07-28 era (`server/discover`, requests
//!   carrying their own `_meta`), request dispatch, cancellation;
//! - [`Server`] answers `tools/list` and `tools/call`. A call builds its own
//!   [`crate::context::Context`] in the project folder it names
//!   ([`request`]), checks the login (`HEAD /api/authorize`, opt-ins), the
//!   arguments and the production safeguards, then runs the tool
//!   ([`handlers`]) on the existing layers (credentials, HTTP client, sync
//!   client, data-plane functions). Calls run one at a time.
//! - A failing tool answers with a tool error result (`isError: true`, text
//!   `{"error": "..."}`), never with a dead server; stdout carries protocol
//!   messages only (`crate::output` is switched to keep stdout for them).

pub mod handlers;
pub mod request;
pub mod tools;
pub mod transport;

use std::sync::Arc;

use anyhow::Result;
use futures_util::FutureExt as _;
use rmcp::ServerHandler;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    InitializeRequestParams, InitializeResult, ListToolsResult, PaginatedRequestParams,
    ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{RequestContext, RoleServer};
use serde_json::{Map, Value};

use crate::values::{JsValue, stringify};
use request::McpOptions;
use tools::ToolName;
use transport::{LifecycleFlag, LineTransport};

/// The server's name and version in `initialize` (as the official CLI's).
pub const SERVER_NAME: &str = "Convex MCP Server";
pub const SERVER_VERSION: &str = "0.0.1";

const NOT_AUTHORIZED: &str =
    "Not Authorized: Run `npx convex dev` to login to your Convex project.";

/// The MCP server's handler.
#[derive(Clone)]
pub struct Server {
    options: Arc<McpOptions>,
    /// One tool call at a time.
    turn: Arc<tokio::sync::Mutex<()>>,
    lifecycle: LifecycleFlag,
}

impl Server {
    pub fn new(options: McpOptions, lifecycle: LifecycleFlag) -> Server {
        Server {
            options: Arc::new(options),
            turn: Arc::new(tokio::sync::Mutex::new(())),
            lifecycle,
        }
    }

    /// The tools of `tools/list`.
    pub fn tools(&self) -> Vec<Tool> {
        self.options
            .enabled
            .iter()
            .map(|tool| {
                let schema = match tool.input_schema() {
                    Value::Object(map) => map,
                    _ => Map::new(),
                };
                Tool::new(tool.as_str(), tool.description(), Arc::new(schema))
            })
            .collect()
    }

    /// Run one call; the text of its result, or the error message.
    async fn call(&self, name: &str, arguments: Option<&Map<String, Value>>) -> CallToolResult {
        let _turn = self.turn.lock().await;
        let outcome = std::panic::AssertUnwindSafe(self.run_call(name, arguments))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| {
                Err(anyhow::anyhow!(
                    "The tool stopped on an internal error (a bug in this CLI); the server is still running."
                ))
            });
        match outcome {
            Ok(value) => {
                let mut result =
                    CallToolResult::success(vec![ContentBlock::text(stringify(&value, 0))]);
                // As the official server: no `isError` on success.
                result.is_error = None;
                result
            }
            Err(err) => {
                let message = crate::error::message_of(&err);
                transport::log(&format!("tool `{name}` failed: {message}"));
                let text = stringify(
                    &JsValue::Object(vec![("error".into(), JsValue::String(message))]),
                    0,
                );
                CallToolResult::error(vec![ContentBlock::text(text)])
            }
        }
    }

    async fn run_call(
        &self,
        name: &str,
        arguments: Option<&Map<String, Value>>,
    ) -> Result<JsValue> {
        let options = &self.options;
        let tool = ToolName::parse(name).filter(|t| options.enabled.contains(t));
        // The settings (environment, .env.local) of the project the call is
        // about, else of --project-dir, else of where the server started.
        let dir = handlers::settings_dir(options, tool, arguments);
        let ctx = options.context_at(&dir)?;
        if !crate::commands::login::check_authorization(&ctx, false).await? {
            return Err(crate::error::fail(NOT_AUTHORIZED));
        }
        let Some(arguments) = arguments else {
            return Err(crate::error::fail("No arguments provided"));
        };
        let Some(tool) = tool else {
            return Err(crate::error::fail(format!("Tool {name} not found")));
        };
        tools::check_arguments(tool, arguments).map_err(crate::error::fail)?;
        handlers::run(tool, options, ctx, arguments).await
    }
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        InitializeResult::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(SERVER_NAME, SERVER_VERSION))
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, rmcp::ErrorData> {
        self.lifecycle.mark_started();
        context.peer.set_peer_info(request.clone());
        self.negotiate_initialize(&request)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, rmcp::ErrorData> {
        self.lifecycle.mark_started();
        Ok(ListToolsResult::with_all_items(self.tools()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, rmcp::ErrorData> {
        self.lifecycle.mark_started();
        Ok(self
            .call(&request.name, request.arguments.as_ref())
            .await
            .into())
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools().into_iter().find(|t| t.name == name)
    }
}

/// Serve on stdin/stdout until the client closes stdin.
pub async fn serve(options: McpOptions) -> Result<()> {
    let lifecycle = LifecycleFlag::default();
    let server = Server::new(options, lifecycle.clone());
    let transport = LineTransport::new(
        tokio::io::BufReader::new(tokio::io::stdin()),
        tokio::io::stdout(),
        lifecycle,
    );
    serve_on(server, transport).await
}

/// Serve on any transport (tests use in-memory pipes).
pub async fn serve_on<R>(server: Server, transport: LineTransport<R>) -> Result<()>
where
    R: tokio::io::AsyncBufRead + Send + Unpin + 'static,
{
    use rmcp::service::ServerInitializeError as E;
    match rmcp::serve_server(server, transport).await {
        Ok(running) => {
            let _ = running.waiting().await;
            Ok(())
        }
        // The client went away before starting a session.
        Err(E::ConnectionClosed(_) | E::Cancelled) => Ok(()),
        Err(e) => Err(anyhow::anyhow!("The MCP session could not start: {e}")),
    }
}
