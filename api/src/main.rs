//! The `cms` binary: parse the command line and hand over to [`cms_api::cli`].

#[tokio::main]
async fn main() -> std::process::ExitCode {
    cms_api::cli::main().await
}
