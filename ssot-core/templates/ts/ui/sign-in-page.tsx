import { SignIn } from "../_ui/sign-in.js";

export default function SignInPage() {
  return <SignIn />;
}
