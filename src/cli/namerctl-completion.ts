// `namerctl completion bash|zsh`: shell completion for commands, aliases, flags, files, and the
// namespace names namerd has (asked with `namerctl dtab list`, with the flags typed so far).

const BASH = `# bash completion for namerctl. Load it with:  source <(namerctl completion bash)
_namerctl() {
  local cur prev cmd="" sub="" nargs=0 i w
  local -a conn=()
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev=""
  if ((COMP_CWORD > 0)); then prev="\${COMP_WORDS[COMP_CWORD - 1]}"; fi
  COMPREPLY=()
  case "$prev" in
    --config) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
    --base-url | --token | --dtab | --version) return 0 ;;
  esac
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in
      --base-url | --config | --token)
        conn+=("$w" "\${COMP_WORDS[i + 1]}")
        ((i++)) ;;
      --dtab) ((i++)) ;;
      --version) if [[ "$sub" == update || "$sub" == up ]]; then ((i++)); fi ;;
      --base-url=* | --config=* | --token=*) conn+=("$w") ;;
      -*) ;;
      *)
        if [[ -z "$cmd" ]]; then cmd="$w"
        elif [[ "$cmd" == dtab && -z "$sub" ]]; then sub="$w"
        else ((nargs++)); fi ;;
    esac
  done
  if [[ "$cur" == -* ]]; then
    local flags="--base-url --config --token --help --version"
    case "$cmd" in
      dtab) flags="$flags --json"
        case "$sub" in get | cat) flags="$flags --pretty" ;; esac ;;
      delegate | resolve) flags="$flags --dtab --json" ;;
    esac
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    return 0
  fi
  case "$cmd" in
    "") COMPREPLY=($(compgen -W "dtab delegate resolve completion help" -- "$cur")) ;;
    help) ((nargs == 0)) && COMPREPLY=($(compgen -W "dtab delegate resolve completion" -- "$cur")) ;;
    completion) ((nargs == 0)) && COMPREPLY=($(compgen -W "bash zsh" -- "$cur")) ;;
    delegate | resolve)
      ((nargs == 0)) && COMPREPLY=($(compgen -W "$(namerctl "\${conn[@]}" dtab list 2>/dev/null)" -- "$cur")) ;;
    dtab)
      if [[ -z "$sub" ]]; then
        COMPREPLY=($(compgen -W "list get create update delete" -- "$cur"))
      else
        case "$sub" in
          get | cat | delete | del | rm | update | up)
            if ((nargs == 0)); then
              COMPREPLY=($(compgen -W "$(namerctl "\${conn[@]}" dtab list 2>/dev/null)" -- "$cur"))
            elif [[ "$sub" == update || "$sub" == up ]] && ((nargs == 1)); then
              COMPREPLY=($(compgen -f -- "$cur"))
            fi ;;
          create | new) ((nargs == 1)) && COMPREPLY=($(compgen -f -- "$cur")) ;;
        esac
      fi ;;
  esac
  return 0
}
`

/**
 * The completion script for a shell: `bash` (a `complete -F` function) or `zsh` (the same function
 * through zsh's `bashcompinit`). Print it with `namerctl completion bash|zsh`.
 *
 * @example
 * ```ts
 * completionScript('bash') // '# bash completion for namerctl ...complete -F _namerctl namerctl\n'
 * ```
 */
export function completionScript(shell: 'bash' | 'zsh'): string {
  if (shell === 'bash') return `${BASH}complete -o default -F _namerctl namerctl\n`
  return [
    "# zsh completion for namerctl, through zsh's bash completion layer (bashcompinit). Load it from",
    '# ~/.zshrc with:  source <(namerctl completion zsh)',
    'autoload -U +X compinit && { (( $+functions[compdef] )) || compinit }',
    'autoload -U +X bashcompinit && bashcompinit',
    BASH.replace(/^# bash completion.*\n/, '').trimEnd(),
    'complete -o default -F _namerctl namerctl',
    '',
  ].join('\n')
}
