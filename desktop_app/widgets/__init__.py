"""Small widgets both tabs use: a dim label, a slider with its title and value, a section that
opens and closes, a tinted message strip, and the yes/no question. No tab-specific logic here."""
