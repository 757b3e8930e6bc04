'use strict';
// Kiln Node.js bootstrap: started as `node /var/runtime/node/bootstrap.js` with the Lambda environment variables
// set; the runtime itself is in runtime.js, which snapshot.js shares.
require('./runtime.js').main();
