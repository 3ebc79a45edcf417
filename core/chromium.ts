/**
 * Flags for the system Chromium wherever Shaobing drives it (rendered news pages, printed
 * briefings): headless in a service account or a container, with no sandbox helper, GPU or
 * background traffic of its own.
 */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];
