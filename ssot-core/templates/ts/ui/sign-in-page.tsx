import { SignIn } from "../_ui/sign-in.js";

// Rendered per request: the providers on offer come from the server's environment.
export const dynamic = "force-dynamic";

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<{ error?: string | string[] }>;
}) {
  const { error } = await searchParams;
  return <SignIn error={typeof error === "string" ? error : undefined} />;
}
