//! Local and anonymous backends: binary cache and download, state folders, launch, stop.
