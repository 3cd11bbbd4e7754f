// Placeholder replaced by the moto harness; kept so jest starts.
export default async function globalSetup(): Promise<void> {}
