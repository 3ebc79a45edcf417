/** kafkajs' habit: concurrent and repeated stop() calls share one promise. */
export function stopOnce(fn: () => Promise<void>): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => (stopping ??= fn());
}
