//! The `triggerd` binary: see `triggerd --help`.

/// mimalloc instead of glibc's malloc: a request allocates and frees many small strings and rows
/// across threads (the HTTP workers, the blocking pool, the writer), where glibc's arenas spent
/// ~12 % of the server's CPU in `_int_malloc`, `_int_free` and `malloc_consolidate` (see
/// BENCHMARKS.md, "Performance round three").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    triggerd::cli::main()
}
