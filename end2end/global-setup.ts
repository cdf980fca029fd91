import { request, FullConfig } from "@playwright/test";
import { VIEWER_STATE, logInWith } from "./tests/login";

// Every page needs a session: the suite reads the console as bob, the demo's viewer, unless a
// test logs in as someone else. One login here, saved as the default storage state.
export default async function globalSetup(config: FullConfig) {
  const baseURL = config.projects[0].use.baseURL!;
  const api = await request.newContext({ baseURL });
  await logInWith(api, "bob", "bob-viewer");
  await api.storageState({ path: VIEWER_STATE });
  await api.dispose();
}
