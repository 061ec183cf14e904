# Shell aliases for interactive shells.
alias ll='ls -l'
alias la='ls -A'
alias gs='git status --short'
