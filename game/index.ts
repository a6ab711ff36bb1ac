// The example game: every example of the seed page, plus remind, tasks, longjob and help (and test commands when
// GAME_DEV_COMMANDS=1). Importing this registers the commands and callbacks.
import './asynccommand';
import './testdelay';
import './waitloop';
import './remind';
import './tasks';
import './longjob';
import './help';
import './dev';
