// apache-crypt ships no types: crypt(3) DES as Apache's htpasswd -d writes it.
declare module 'apache-crypt' {
  export default function crypt(password: string, salt?: string): string;
}
